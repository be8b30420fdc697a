// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {BondHook} from "./BondHook.sol";

/// @title BondERC20
/// @notice The ERC-20 surface of a bond over packed account words (in {BondToken} only: the
/// servicing half never answers these selectors). Every balance change goes through the single
/// hook {_update}, which {BondLedger} implements with the bond's rules.
abstract contract BondERC20 is BondHook, IERC20, IERC20Errors {

    /// @notice Total face issued and outstanding, in token units.
    /// @return the total supply
    function totalSupply() public view returns (uint256) {
        return _state & SUPPLY_MASK;
    }

    /// @notice Balance of `account` in token units (including any frozen part).
    /// @param account the wallet
    /// @return the balance
    function balanceOf(address account) public view returns (uint256) {
        return _accounts[account] & BALANCE_MASK;
    }

    /// @notice Transfers `value` token units to `to`, subject to the bond's transfer rules.
    /// @param to recipient
    /// @param value amount in token units
    /// @return true (a refused transfer reverts with TransferRestricted)
    function transfer(address to, uint256 value) public returns (bool) {
        _update(msg.sender, to, value, MODE_TRANSFER);
        return true;
    }

    /// @notice Allowance of `spender` over `owner`'s units.
    /// @param owner the holder
    /// @param spender the spender
    /// @return the remaining allowance
    function allowance(address owner, address spender) public view returns (uint256) {
        return _allowances[owner][spender];
    }

    /// @notice Lets `spender` move up to `value` of the caller's units (DvP settlement uses this).
    /// @param spender the spender
    /// @param value the allowance
    /// @return true
    function approve(address spender, uint256 value) public returns (bool) {
        if (spender == address(0)) revert ERC20InvalidSpender(address(0));
        _allowances[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    /// @notice Transfers `value` from `from` to `to` using the caller's allowance, subject to the rules.
    /// @param from sender
    /// @param to recipient
    /// @param value amount in token units
    /// @return true
    function transferFrom(address from, address to, uint256 value) public returns (bool) {
        uint256 allowed = _allowances[from][msg.sender];
        if (allowed != type(uint256).max) {
            if (allowed < value) revert ERC20InsufficientAllowance(msg.sender, allowed, value);
            unchecked {
                _allowances[from][msg.sender] = allowed - value;
            }
        }
        _update(from, to, value, MODE_TRANSFER);
        return true;
    }
}
