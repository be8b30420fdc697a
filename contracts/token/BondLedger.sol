// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

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
    function _update(address from, address to, uint256 value, uint8 mode) internal override {
        Ctx memory c;
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
            newState = (state + value) | STATE_ISSUED;
        } else {
            if (from == to) {
                emit Transfer(from, to, value);
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
            if (!perInvestor && (fa & BALANCE_MASK) != 0 && (newFa & BALANCE_MASK) == 0) newState -= HOLDERS_ONE;
        }
        _accounts[to] = newTa;
        if (perInvestor) {
            newState = _updateInvestorUnits(value, c, newState);
        } else if ((ta & BALANCE_MASK) == 0 && (newTa & BALANCE_MASK) != 0) {
            newState += HOLDERS_ONE;
        }
        if (newState != state) _state = newState;
        emit Transfer(from, to, value);
    }

    /// @dev keeps units per investor and counts holders per investor (only when the rules ask for it)
    function _updateInvestorUnits(uint256 value, Ctx memory c, uint256 state) private returns (uint256) {
        uint64 idFrom = c.fromRec.investorId();
        uint64 idTo = c.toRec.investorId();
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
