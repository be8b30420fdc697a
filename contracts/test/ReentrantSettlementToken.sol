// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantSettlementToken
/// @notice A hostile settlement token for tests only: on every transfer it makes while armed, it
/// first calls back into a target (the bond) with calldata set beforehand, as a token with
/// transfer hooks could, and records how that call ended. The call back happens before the
/// balances move (like an ERC-777 sender hook), which is the worst moment for the caller.
contract ReentrantSettlementToken is ERC20 {
    /// @notice Emitted for every call back into the target.
    /// @param ok whether it succeeded
    /// @param result its return or revert data
    event Reentered(bool ok, bytes result);

    address private _target;
    bytes private _payload;
    uint256 private _times;

    constructor() ERC20("Reentrant JPY", "RJPY") {}

    /// @notice Mints `amount` to `to` (anyone: a test token).
    /// @param to the recipient
    /// @param amount base units
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the hook: the next `times` transfers call `target` with `payload` first.
    /// @param target the contract to call back
    /// @param payload the calldata
    /// @param times how many transfers call back
    function arm(address target, bytes calldata payload, uint256 times) external {
        _target = target;
        _payload = payload;
        _times = times;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (_times != 0 && from != address(0)) {
            --_times;
            (bool ok, bytes memory result) = _target.call(_payload);
            emit Reentered(ok, result);
        }
        super._update(from, to, value);
    }
}
