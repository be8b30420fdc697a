// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title MockSettlementToken
/// @notice A mintable ERC-20 standing in for the settlement money (a JPY stablecoin or tokenized
/// deposit) on local and test chains only. Decimals are set at deployment (JPYC has 18).
contract MockSettlementToken is ERC20, Ownable {
    uint8 private immutable _decimals;
    mapping(address account => bool) private _blocked;
    /// @dev how many accounts are blocked: while none is, transfers skip the block list (as a
    /// stablecoin's block list costs little when it is empty)
    uint256 private _blockedCount;

    /// @notice Emitted when an account is blocked or unblocked (to test failing payees).
    /// @param account the account
    /// @param blocked whether it is now blocked
    event BlockedSet(address indexed account, bool blocked);

    /// @notice The account is blocked by the token.
    /// @param account the account
    error AccountBlocked(address account);

    /// @param name_ token name
    /// @param symbol_ token symbol
    /// @param decimals_ token decimals
    /// @param owner_ the account that may mint and block
    constructor(string memory name_, string memory symbol_, uint8 decimals_, address owner_)
        ERC20(name_, symbol_)
        Ownable(owner_)
    {
        _decimals = decimals_;
    }

    /// @notice Decimals of the token.
    /// @return the decimals
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @notice Mints `amount` to `to` (owner only).
    /// @param to the recipient
    /// @param amount base units
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /// @notice Blocks or unblocks an account from sending and receiving (owner only).
    /// @param account the account
    /// @param blocked whether to block
    function setBlocked(address account, bool blocked) external onlyOwner {
        if (_blocked[account] != blocked) {
            if (blocked) ++_blockedCount;
            else --_blockedCount;
        }
        _blocked[account] = blocked;
        emit BlockedSet(account, blocked);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (_blockedCount != 0) {
            if (_blocked[from]) revert AccountBlocked(from);
            if (_blocked[to]) revert AccountBlocked(to);
        }
        super._update(from, to, value);
    }
}
