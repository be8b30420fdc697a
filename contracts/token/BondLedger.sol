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
        // count the record times that have passed (no work per holder: see {CouponEntitlement})
        uint256 state0 = _state;
        uint256 advanced = _advance(state0);
        if (advanced != state0) _state = advanced;
        // slither-disable-next-line uninitialized-local -- zero is the intended initial value
        Ctx memory c;
        c.from = from;
        c.to = to;
        uint8 code;
        if (mode == MODE_TRANSFER) code = _checkTransfer(from, to, value, c);
        else if (mode == MODE_MINT) code = _checkMint(to, value, c);
        else if (mode == MODE_FORCED) code = _checkForced(from, to, value, c);
        else if (mode == MODE_RECOVERY) code = _checkRecovery(from, to, c);
        else code = _checkBurn(from, c);
        if (code != RC.SUCCESS) revert TransferRestricted(code, from, to, value);

        // before the first mint nobody holds anything: a move (of zero units) changes no coupon
        // position, so that none depends on who called what before issue; a recovery moves only
        // the lost wallet's freeze
        if (c.state & STATE_ISSUED == 0 && mode != MODE_MINT) {
            if (mode == MODE_RECOVERY && c.fromAcct & ACCOUNT_WALLET_FROZEN != 0) {
                _accounts[from] = c.fromAcct & ~ACCOUNT_WALLET_FROZEN;
                _accounts[to] = c.toAcct | ACCOUNT_WALLET_FROZEN;
            }
            emit IERC20.Transfer(from, to, value);
            return;
        }
        if (mode == MODE_BURN) {
            _burn(from, value, c);
            return;
        }
        if (from == to && mode != MODE_MINT) {
            emit IERC20.Transfer(from, to, value);
            return;
        }
        uint256 state = c.state;
        uint256 newState = mode == MODE_MINT ? _mintTo(to, value, c) : _move(from, to, value, mode, c);
        uint256 ta = c.toAcct;
        uint256 newTa = _accounts[to];
        bool joins = (ta & BALANCE_MASK) == 0 && (newTa & BALANCE_MASK) != 0;
        if (uint8(c.w1 >> PER_INVESTOR_SHIFT) != 0) {
            if (joins) _countedAs[to] = c.toId;
            newState = _updateInvestorUnits(value, c, newState);
        } else if (joins) {
            newState += HOLDERS_ONE;
        }
        if (newState != state) _state = newState;
        emit IERC20.Transfer(from, to, value);
    }

    /// @dev a mint's balance change (the recipient settled first); returns the new bond state
    function _mintTo(address to, uint256 value, Ctx memory c) private returns (uint256) {
        uint256 state = c.state;
        if (value == 0) return state;
        _beforeSupplyChange(state, true);
        uint256 ta = _settle(to, c.toAcct, uint8(state >> RECORDED_SHIFT));
        c.toAcct = ta;
        _accounts[to] = ta + value;
        return (state + value) | STATE_ISSUED;
    }

    /// @dev a transfer's, forced transfer's or recovery's balance change (both parties settled
    /// first: the periods recorded since their last balance change were held as they are);
    /// returns the new bond state
    function _move(address from, address to, uint256 value, uint8 mode, Ctx memory c) private returns (uint256 newState) {
        newState = c.state;
        uint256 recorded = uint8(newState >> RECORDED_SHIFT);
        uint256 fa = _settle(from, c.fromAcct, recorded);
        uint256 ta = _settle(to, c.toAcct, recorded);
        c.toAcct = ta;
        uint256 newFa;
        if (mode == MODE_RECOVERY) {
            _accounts[to] = _recoveredAccount(from, to, fa, ta);
            newFa = fa & (uint256(0xff) << CURSOR_SHIFT); // the cursor stays, all else moved
        } else {
            newFa = fa - value;
            if (mode == MODE_FORCED) {
                // frozen units move last; the frozen amount never exceeds what is left
                uint256 frozen = _frozen(fa);
                uint256 left = (fa & BALANCE_MASK) - value;
                if (frozen > left) newFa -= (frozen - left) << FROZEN_SHIFT;
            }
            _accounts[to] = ta + value;
        }
        _accounts[from] = newFa;
        if ((fa & BALANCE_MASK) != 0 && (newFa & BALANCE_MASK) == 0) {
            if (uint8(c.w1 >> PER_INVESTOR_SHIFT) != 0) delete _countedAs[from];
            else newState -= HOLDERS_ONE;
        }
    }

    /// @dev A recovery moves everything to the new wallet: units, frozen units, the wallet freeze
    /// and what is owed on units held at past record times (both accounts are settled to the same
    /// period, so their `held` units belong to the same period and add up).
    function _recoveredAccount(address from, address to, uint256 fa, uint256 ta) private returns (uint256 newTa) {
        newTa = (ta + (fa & BALANCE_MASK) + (fa & (BALANCE_MASK << FROZEN_SHIFT))) | (fa & ACCOUNT_WALLET_FROZEN);
        if (fa & ACCOUNT_ARREARS != 0) {
            uint256 mask = _arrearsMask[from];
            for (uint256 p; mask >> p != 0; ++p) {
                if ((mask >> p) & 1 == 0) continue;
                uint256 units = _arrears[from][p];
                delete _arrears[from][p];
                newTa = _keep(to, p, units, newTa);
            }
            delete _arrearsMask[from];
        }
        // one entitlement per period: the units held at the last record time join whatever of that
        // period is kept apart already (a holding too large for the account word)
        uint256 held = (ta >> HELD_SHIFT) + (fa >> HELD_SHIFT);
        uint256 last = uint8(ta >> CURSOR_SHIFT);
        if (held != 0 && (held > MAX_HELD || (newTa & ACCOUNT_ARREARS != 0 && (_arrearsMask[to] >> (last - 1)) & 1 != 0))) {
            newTa = _keep(to, last - 1, held, newTa);
            held = 0;
        }
        newTa = (newTa & ~(MAX_HELD << HELD_SHIFT)) | (held << HELD_SHIFT);
    }

    /// @dev A redemption burn: the units leave the holder and the supply; the bond closes when the
    /// last unit of a bond whose final period is recorded is redeemed.
    function _burn(address from, uint256 value, Ctx memory c) private {
        uint256 state = c.state;
        _beforeSupplyChange(state, false);
        uint256 fa = c.fromAcct;
        uint256 newFa = fa - value;
        _accounts[from] = newFa;
        uint256 newState = state - value;
        if ((fa & BALANCE_MASK) != 0 && (newFa & BALANCE_MASK) == 0) {
            if (uint8(c.w1 >> PER_INVESTOR_SHIFT) != 0) delete _countedAs[from];
            else newState -= HOLDERS_ONE;
        }
        if (uint8(c.w1 >> PER_INVESTOR_SHIFT) != 0 && value != 0) {
            uint256 left = c.fromUnits - value;
            _investorUnits[c.fromId] = left;
            if (left == 0) newState -= HOLDERS_ONE;
        }
        if (newState & SUPPLY_MASK == 0 && newState & STATE_ALL_RECORDED != 0) newState |= STATE_CLOSED;
        _state = newState;
        emit IERC20.Transfer(from, address(0), value);
    }

    /// @dev The common case of the hook, kept lean because every transfer pays for it: a transfer
    /// between two wallets settled up to the last record time, when no record time has passed
    /// since the bond last counted them, the rules are the clone's own (not amended) and limits
    /// are per wallet. It applies the transfer only when every rule passes, and otherwise returns false
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
            // a wallet that never held starts settled at the periods recorded (nothing owed before)
            let newTa := add(ta, value)
            if iszero(ta) { newTa := or(value, shl(8, and(state, shl(208, 0xff)))) }
            sstore(toSlot, newTa)
        }
        if (newState != state) _state = newState;
        emit IERC20.Transfer(from, to, value);
        return true;
    }

    /// @dev the recipient's record when the bond state (issued, open, rules not amended) and both
    /// parties allow the fast path, else 0
    function _fastRecipientRecord(address from, address to, uint256 state) private view returns (uint256) {
        if (
            // the next record time is never after maturity (it is the maturity without a schedule)
            state & (STATE_PAUSED | STATE_CLOSED | STATE_RULES_AMENDED | STATE_ISSUED) != STATE_ISSUED
                || block.timestamp >= uint40(state >> NEXT_RECORD_SHIFT) || from == to || to == address(this)
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
        // neither wallet frozen, both settled up to the periods recorded (a wallet that never held
        // needs no settling): then coupon entitlement needs no work
        uint256 settled = (state & (uint256(0xff) << RECORDED_SHIFT)) << 8; // recorded, at the cursor's place
        uint256 m = ACCOUNT_WALLET_FROZEN | (uint256(0xff) << CURSOR_SHIFT);
        if (fa & m != settled || (ta & m != settled && ta != 0)) return 0;
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
