// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {InvestorRecord} from "../registry/InvestorRecord.sol";
import {RestrictionCodes as RC} from "./RestrictionCodes.sol";
import {TransferRestrictions} from "./TransferRestrictions.sol";

/// @title BondLedger
/// @notice The bond's single transfer hook: every balance change (transfer, mint, forced
/// transfer, recovery) is evaluated against the rules for its kind and then applied here, so that
/// balances, frozen amounts, holder counts and per-investor totals always change together.
abstract contract BondLedger is TransferRestrictions {
    using InvestorRecord for uint256;

    /// @dev The single transfer hook. Evaluates the rules for `mode` (reverting with the
    /// restriction code), then changes balances, frozen amounts, holder counts and per-investor
    /// totals together.
    function _update(address from, address to, uint256 value, uint8 mode) internal virtual override {
        Ctx memory c;
        c.from = from;
        c.to = to;
        uint8 code;
        if (mode == MODE_TRANSFER) code = _checkTransfer(from, to, value, c);
        else if (mode == MODE_MINT) code = _checkMint(to, value, c);
        else if (mode == MODE_FORCED) code = _checkForced(from, to, value, c);
        else code = _checkRecovery(from, to, c);
        if (code != RC.SUCCESS) revert TransferRestricted(code, from, to, value);

        uint256 state = c.state;
        uint256 newState = state;
        bool perInvestor = uint8(c.w1 >> PER_INVESTOR_SHIFT) != 0;
        uint256 ta = c.toAcct;
        uint256 newTa;
        if (mode == MODE_MINT) {
            newTa = ta + value;
            newState = value == 0 ? state : (state + value) | STATE_ISSUED;
        } else {
            if (from == to) {
                emit IERC20.Transfer(from, to, value);
                return;
            }
            uint256 fa = c.fromAcct;
            uint256 newFa;
            if (mode == MODE_RECOVERY) {
                // everything moves: balance, frozen units and the wallet freeze
                newTa = (ta + (fa & BALANCE_MASK) + (fa & (BALANCE_MASK << FROZEN_SHIFT))) | (fa & ACCOUNT_WALLET_FROZEN);
                newFa = fa & ~(BALANCE_MASK | (BALANCE_MASK << FROZEN_SHIFT) | ACCOUNT_WALLET_FROZEN);
            } else {
                newFa = fa - value;
                if (mode == MODE_FORCED) {
                    // frozen units move last; the frozen amount never exceeds what is left
                    uint256 frozen = _frozen(fa);
                    uint256 left = (fa & BALANCE_MASK) - value;
                    if (frozen > left) newFa -= (frozen - left) << FROZEN_SHIFT;
                }
                newTa = ta + value;
            }
            _accounts[from] = newFa;
            if ((fa & BALANCE_MASK) != 0 && (newFa & BALANCE_MASK) == 0) {
                if (perInvestor) delete _countedAs[from];
                else newState -= HOLDERS_ONE;
            }
        }
        _accounts[to] = newTa;
        bool joins = (ta & BALANCE_MASK) == 0 && (newTa & BALANCE_MASK) != 0;
        if (perInvestor) {
            if (joins) _countedAs[to] = c.toId;
            newState = _updateInvestorUnits(value, c, newState);
        } else if (joins) {
            newState += HOLDERS_ONE;
        }
        if (newState != state) _state = newState;
        emit IERC20.Transfer(from, to, value);
    }

    /// @dev The common case of the hook, kept lean because every transfer pays for it: a transfer
    /// between two wallets when the rules are the clone's own (not amended) and limits are per
    /// wallet. It applies the transfer only when every rule passes, and otherwise returns false
    /// without changing anything, so that the full evaluation above decides and names the reason.
    /// It checks exactly what {_checkTransfer} checks (the invariant tests hold the two together).
    function _tryFastTransfer(address from, address to, uint256 value) internal returns (bool) {
        uint256 state = _state;
        uint256 rt = _fastRecipientRecord(from, to, state);
        if (rt == 0) return false;
        // the two account slots, hashed once for the read and the write
        uint256 fromSlot;
        uint256 toSlot;
        uint256 fa;
        uint256 ta;
        assembly ("memory-safe") {
            mstore(0x20, _accounts.slot)
            mstore(0, from)
            fromSlot := keccak256(0, 0x40)
            mstore(0, to)
            toSlot := keccak256(0, 0x40)
            fa := sload(fromSlot)
            ta := sload(toSlot)
        }
        uint256 newState = _fastRules(value, fa, ta, rt, state);
        if (newState == 0) return false;
        assembly ("memory-safe") {
            // no overflow: value <= the sender's balance, and balances sum to the supply (< 2^104)
            sstore(fromSlot, sub(fa, value))
            sstore(toSlot, add(ta, value))
        }
        if (newState != state) _state = newState;
        emit IERC20.Transfer(from, to, value);
        return true;
    }

    /// @dev the recipient's record when the bond state and both parties allow the fast path, else 0
    function _fastRecipientRecord(address from, address to, uint256 state) private view returns (uint256) {
        if (
            state & (STATE_PAUSED | STATE_CLOSED | STATE_RULES_AMENDED) != 0 || block.timestamp >= _maturity(state)
                || from == to || to == address(this)
        ) return 0;
        (uint256 rf, uint256 rt) = _recordsOf(from, to);
        if (
            uint64(rf) == 0 || uint64(rt) == 0
                || ((rf | rt) >> InvestorRecord.FLAGS_SHIFT) & InvestorRecord.FLAG_SUSPENDED != 0
                || uint40(rf >> InvestorRecord.KYC_SHIFT) <= block.timestamp
                || uint40(rt >> InvestorRecord.KYC_SHIFT) <= block.timestamp
        ) return 0;
        return rt;
    }

    /// @dev the bond state after the transfer when every rule passes (holder count adjusted), else 0
    function _fastRules(uint256 value, uint256 fa, uint256 ta, uint256 rt, uint256 state) private view returns (uint256) {
        if ((fa | ta) & ACCOUNT_WALLET_FROZEN != 0) return 0;
        (uint256 rp, uint256 w0, uint256 w1) = _loadRules(state);
        if (block.timestamp < uint40(w1 >> LOCKUP_SHIFT) || uint8(w1 >> PER_INVESTOR_SHIFT) != 0) return 0;
        unchecked {
            uint256 balance = fa & BALANCE_MASK;
            // tradingUnit >= 1 (checked when packed); frozen <= balance always holds
            if (value % uint128(w0) != 0 || value > balance - _frozen(fa)) return 0;
            if (_recipientAttributesCode(rt, w1, rp) != 0) return 0;
            uint256 toBalance = ta & BALANCE_MASK;
            uint256 maxBalance = w0 >> 128;
            if (maxBalance != 0 && toBalance + value > maxBalance) return 0;
            bool joins = toBalance == 0 && value != 0;
            bool leaves = balance == value && value != 0;
            if (joins && !leaves) {
                uint256 maxHolders = uint32(w1 >> MAX_HOLDERS_SHIFT);
                if (maxHolders != 0 && _holders(state) >= maxHolders) return 0;
                return state + HOLDERS_ONE;
            }
            return leaves && !joins ? state - HOLDERS_ONE : state;
        }
    }

    /// @dev keeps units per investor and counts holders per investor (only when the rules ask for it)
    function _updateInvestorUnits(uint256 value, Ctx memory c, uint256 state) private returns (uint256) {
        uint64 idFrom = c.fromId;
        uint64 idTo = c.toId;
        if (idFrom == idTo || value == 0) return state;
        if (idFrom != 0) {
            uint256 left = c.fromUnits - value;
            _investorUnits[idFrom] = left;
            if (left == 0) state -= HOLDERS_ONE;
        }
        if (c.toUnits == 0) state += HOLDERS_ONE;
        _investorUnits[idTo] = c.toUnits + value;
        return state;
    }
}
