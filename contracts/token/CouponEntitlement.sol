// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {BondStorage} from "./BondStorage.sol";
import {CouponMath as CM} from "./CouponMath.sol";

/// @title CouponEntitlement
/// @notice Record-date entitlement, settled lazily: nothing happens at a record time. The bond
/// state word carries the number of periods recorded and the next record time; each account word
/// carries a cursor. A wallet whose cursor is behind the periods recorded has held its current
/// balance at every record time since its last balance change, so the hook, before it changes a
/// balance, settles those periods: it keeps the holding of the last one in the account word
/// (`held`) and, rarely, of earlier unpaid ones in `_arrears`. Payments ({CouponPayments}) read
/// the same three places, in period order.
abstract contract CouponEntitlement is BondStorage {
    /// @notice Emitted when a wallet's holding at a record time is kept apart from its balance
    /// because it was not paid before the balance changed again.
    /// @param wallet the holder
    /// @param period the period
    /// @param units units held at the period's record time
    event EntitlementKept(address indexed wallet, uint256 indexed period, uint256 units);

    /// @notice Emitted when units are minted after a period was funded: the period needs more
    /// funding before it is payable.
    /// @param period the period
    event FundingReopened(uint256 indexed period);

    /// @dev the bond state with every record time that has passed counted (a view: the caller
    /// writes it back when it changed)
    function _advance(uint256 state) internal view returns (uint256) {
        if (
            block.timestamp < uint40(state >> NEXT_RECORD_SHIFT)
                || state & (STATE_SCHEDULED | STATE_ALL_RECORDED) != STATE_SCHEDULED
        ) return state;
        uint256 r = uint8(state >> RECORDED_SHIFT);
        while (true) {
            if (state & STATE_FINAL_DUE != 0) {
                // period r is the final one: its record time stays the next-record field, where
                // transfers end
                state |= STATE_ALL_RECORDED;
                ++r;
                break;
            }
            // one period word says when the next record time is and whether it is the final one
            uint256 w = _periods[r++];
            uint256 next = CM.nextRecordTime(w);
            state = (state & ~(uint256(type(uint40).max) << NEXT_RECORD_SHIFT)) | (next << NEXT_RECORD_SHIFT);
            if (w & CM.NEXT_FINAL != 0) state |= STATE_FINAL_DUE;
            if (block.timestamp < next) break;
        }
        return (state & ~(uint256(0xff) << RECORDED_SHIFT)) | (r << RECORDED_SHIFT);
    }

    /// @dev true once the final period's record time has passed: the units no longer trade
    function _finalRecorded(uint256 state) internal view returns (bool) {
        return state & STATE_FINAL_DUE != 0 && block.timestamp >= uint40(state >> NEXT_RECORD_SHIFT);
    }

    /// @dev Settles `wallet`'s periods recorded since its last balance change (`r` = periods
    /// recorded): they were held with the current balance. Returns the account word to write.
    function _settle(address wallet, uint256 acct, uint256 r) internal returns (uint256) {
        uint256 cursor = uint8(acct >> CURSOR_SHIFT);
        if (cursor >= r) return acct;
        uint256 held = acct >> HELD_SHIFT;
        if (held != 0) acct = _keep(wallet, cursor - 1, held, acct);
        uint256 balance = acct & BALANCE_MASK;
        held = 0;
        if (balance != 0) {
            for (uint256 p = cursor; p + 1 < r; ++p) {
                acct = _keep(wallet, p, balance, acct);
            }
            if (balance <= MAX_HELD) held = balance;
            else acct = _keep(wallet, r - 1, balance, acct);
        }
        return (acct & ACCOUNT_LOW) | (r << CURSOR_SHIFT) | (held << HELD_SHIFT);
    }

    /// @dev keeps a holding at a record time in `_arrears` until it is paid
    function _keep(address wallet, uint256 period, uint256 units, uint256 acct) internal returns (uint256) {
        _arrears[wallet][period] += units;
        _arrearsMask[wallet] |= 1 << period;
        emit EntitlementKept(wallet, period, units);
        return acct | ACCOUNT_ARREARS;
    }

    /// @dev Before the supply changes (mint, redemption): keeps the supply at each record time
    /// passed since the last change (what those periods need), and reopens the funding of periods
    /// funded for a smaller supply.
    function _beforeSupplyChange(uint256 state, bool grows) internal {
        uint256 terms = _payTerms;
        uint256 snap = uint8(terms >> 8);
        uint256 r = uint8(state >> RECORDED_SHIFT);
        if (snap < r) {
            uint256 supply = state & SUPPLY_MASK;
            for (uint256 p = snap; p < r; ++p) {
                _periodFunds[p] |= supply << 128;
            }
            _payTerms = (terms & ~uint256(0xff00)) | (r << 8);
        }
        if (!grows || state & STATE_ALL_RECORDED != 0) return;
        // every funded period not yet recorded, also one funded ahead of an unfunded one
        for (uint256 p = r; p < uint8(terms >> 96); ++p) {
            uint256 w = _periods[p];
            if (w & CM.FUNDED == 0) continue;
            _periods[p] = w & ~CM.FUNDED;
            emit FundingReopened(p);
        }
    }
}
