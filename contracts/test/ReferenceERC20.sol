// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReferenceERC20
/// @notice A plain OpenZeppelin 5 ERC-20 with no rules: the gas floor the benchmark compares with.
contract ReferenceERC20 is ERC20 {
    /// @param supply units minted to the deployer
    constructor(uint256 supply) ERC20("Reference", "REF") {
        _mint(msg.sender, supply);
    }
}
