// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {InvestorRecord} from "../registry/InvestorRecord.sol";
import {BondLedger} from "./BondLedger.sol";
import {CouponMath as CM} from "./CouponMath.sol";

/// @title CouponPayments
/// @notice Paying holders of record: coupons net of withholding tax, principal of amortisations,
/// and at the end the redemption, which burns the holder's units in the same transaction. A holder
/// claims (pull) everything payable in one call; the paying agent pays a list of holders (push).
///
/// Periods are paid in order. A period is payable from its payment time once fully funded; a
/// period whose claim window closed (swept) is skipped and its entitlement forfeited. What is
/// paid: for each period, the holding at its record time (see {CouponEntitlement}) x coupon per
/// unit, floored to the rounding unit (the gross); the national and local tax parts at the
/// holder's tax category's rates (read from the registry when paid; the bond's highest rates for
/// a holder not in the registry or of a category without rates), each floored; the net goes
/// to the holder, the tax stays in the bond until the paying agent remits it.
///
/// Policy: a wallet frozen by the transfer agent is not paid until unfrozen (its entitlement
/// waits); a redemption also waits while part of the holder's units is frozen. A batch payment
/// never reverts for one payee: each payee is paid in its own sub-call, and a failure (a frozen
/// wallet, a settlement token that refuses the payee) is evented and leaves the payee's
/// entitlement exactly as it was, to be claimed or pushed again.
abstract contract CouponPayments is BondLedger {
    /// @notice Emitted for every coupon paid to a holder (amounts in settlement-token units).
    /// @param holder the wallet paid
    /// @param period the period
    /// @param gross the coupon before tax
    /// @param nationalTax national income tax withheld
    /// @param localTax local inhabitant tax withheld
    /// @param net paid to the holder
    event CouponPaid(
        address indexed holder, uint256 indexed period, uint256 gross, uint256 nationalTax, uint256 localTax, uint256 net
    );

    /// @notice Emitted for every principal payment (amortisation, call or final redemption).
    /// @param holder the wallet paid
    /// @param period the period
    /// @param units units held at the record time
    /// @param amount principal paid, in settlement-token units
    event PrincipalPaid(address indexed holder, uint256 indexed period, uint256 units, uint256 amount);

    /// @notice Emitted when a holder's entitlement to a swept period (claim window closed) lapses.
    /// @param holder the wallet
    /// @param period the period
    /// @param units units held at its record time
    event EntitlementForfeited(address indexed holder, uint256 indexed period, uint256 units);

    /// @notice Emitted when one payee of a batch could not be paid; the entitlement stays.
    /// @param holder the payee
    /// @param reason the revert data (a custom error of this contract or of the settlement token)
    event PaymentFailed(address indexed holder, bytes reason);

    /// @notice Nothing is owed to the holder yet (no record time passed with units held).
    /// @param holder the wallet
    error NothingOwed(address holder);
    /// @notice The next period owed to the holder is not payable before its payment time.
    /// @param period the period
    /// @param paymentTime when it becomes payable (if funded)
    error NotYetPayable(uint256 period, uint256 paymentTime);
    /// @notice The next period owed is due but not fully funded (see `fundingStatus`).
    /// @param period the period
    error PeriodNotFunded(uint256 period);
    /// @notice `redeem` before the final period is payable to the holder.
    /// @param holder the wallet
    error RedemptionNotDue(address holder);
    /// @notice The wallet is frozen: its payments wait until the transfer agent unfreezes it.
    /// @param holder the wallet
    error PaymentWaitsForUnfreeze(address holder);
    /// @notice Part of the holder's units is frozen: the redemption waits until they are unfrozen.
    /// @param holder the wallet
    /// @param frozenUnits the frozen units
    error RedemptionWaitsForUnfreeze(address holder, uint256 frozenUnits);
    /// @notice No tax category of the bond has withholding rates: a coupon cannot be paid until
    /// the admin sets them (the holder's entitlement waits).
    /// @param holder the wallet
    /// @param category its tax category in the registry (256: not in the registry)
    error TaxRatesNotSet(address holder, uint256 category);
    /// @notice The settlement token refused the payment.
    /// @param holder the payee
    /// @param amount settlement-token units
    error SettlementTransferFailed(address holder, uint256 amount);
    /// @notice Only the bond itself may call this (the per-payee step of a batch).
    error OnlySelf();
    /// @notice The settlement token's transfer ran out of gas (the transaction had too little).
    error PaymentOutOfGas();
    /// @notice The batch ran out of gas at a payee: send it with more gas (nothing was paid).
    /// @param index the payee's position in the list
    error BatchOutOfGas(uint256 index);

    /// @dev running totals of one holder's payment
    struct Payment {
        address holder;
        uint256 net;
        uint256 periods; // periods settled (paid, forfeited or owed nothing)
        uint256 paid; // of which something was paid or forfeited
        uint256 category; // tax category + 1 once read from the registry
        bool redeemed;
        uint256 stopPeriod;
        uint8 stop; // 0 nothing owed, 1 not yet payable, 2 not funded
    }

    uint8 private constant STOP_NOT_DUE = 1;
    uint8 private constant STOP_NOT_FUNDED = 2;
    /// @dev `Payment.category` of a holder the registry does not know (categories are 0-255, + 1)
    uint256 private constant UNKNOWN_CATEGORY = 257;

    /// @notice Pays the caller every payable period owed (coupons net of tax, principal; at the
    /// final period the redemption, burning the caller's units). Reverts when nothing is payable,
    /// naming the period that is not.
    /// @return net settlement-token units paid to the caller
    function claim() external returns (uint256 net) {
        Payment memory pay = _payHolder(msg.sender);
        if (pay.paid == 0 && !pay.redeemed) _revertNothing(pay);
        return pay.net;
    }

    /// @notice Redeems the caller's units: pays everything owed including the principal of the
    /// final period and burns the units, in one transaction. Reverts before the final period is
    /// payable.
    /// @return net settlement-token units paid to the caller
    function redeem() external returns (uint256 net) {
        Payment memory pay = _payHolder(msg.sender);
        if (!pay.redeemed) revert RedemptionNotDue(msg.sender);
        return pay.net;
    }

    /// @notice Pays each listed holder everything payable (the paying agent's push; the caller
    /// chooses the batch size). Idempotent: a holder already paid is skipped at no cost beyond
    /// reading its account. A payee that cannot be paid does not revert the batch: it is evented
    /// ({PaymentFailed}) and keeps its entitlement.
    /// @param holders the wallets to pay
    /// @return paid the number of holders paid something in this call
    function payBatch(address[] calldata holders) external onlyRole(ROLE_PAYING_AGENT) returns (uint256 paid) {
        for (uint256 i; i < holders.length; ++i) {
            uint256 before = gasleft();
            try CouponPayments(address(this)).payFor(holders[i]) returns (uint256 periods) {
                if (periods != 0) ++paid;
            } catch (bytes memory reason) {
                // a payee that used up the gas it was given (at most 63/64 of what was left) ran
                // out of gas: the batch was sent with too little, which is not the payee's
                // failure; revert the batch (and make gas estimates find enough)
                if (gasleft() <= before / 64 || bytes4(reason) == PaymentOutOfGas.selector) {
                    revert BatchOutOfGas(i);
                }
                emit PaymentFailed(holders[i], reason);
            }
        }
    }

    /// @notice One payee of {payBatch}, in its own sub-call so that its failure reverts only it.
    /// @param holder the payee
    /// @return periods the number of periods paid to the holder (0: nothing was payable)
    function payFor(address holder) external returns (uint256 periods) {
        if (msg.sender != address(this)) revert OnlySelf();
        Payment memory pay = _payHolder(holder);
        return pay.redeemed && pay.paid == 0 ? 1 : pay.paid;
    }

    /// @dev Pays `holder` every payable period in order: units kept in arrears, then the units
    /// held at the last settled record time, then the balance for each period recorded since.
    function _payHolder(address holder) internal returns (Payment memory pay) {
        pay.holder = holder;
        uint256 acct = _accounts[holder];
        if (acct & ACCOUNT_WALLET_FROZEN != 0) revert PaymentWaitsForUnfreeze(holder);
        uint256 cfg = _payConfig;
        bool open = true;
        if (acct & ACCOUNT_ARREARS != 0) {
            uint256 mask = _arrearsMask[holder];
            for (uint256 p; open && mask >> p != 0; ++p) {
                if ((mask >> p) & 1 == 0) continue;
                open = _payPeriod(pay, cfg, p, _arrears[holder][p]);
                if (open) {
                    delete _arrears[holder][p];
                    mask &= ~(1 << p);
                }
            }
            _arrearsMask[holder] = mask;
            if (mask == 0) acct &= ~ACCOUNT_ARREARS;
        }
        uint256 cursor = uint8(acct >> CURSOR_SHIFT);
        uint256 held = acct >> HELD_SHIFT;
        // the record time of period `cursor`, when a period word read already told it (else 0)
        // slither-disable-next-line uninitialized-local -- zero is the intended initial value
        uint256 nextRecord;
        if (open && held != 0) {
            uint256 w = _periods[cursor - 1];
            open = _payPeriodWord(pay, cfg, cursor - 1, w, held);
            if (open) held = 0;
            nextRecord = CM.nextRecordTime(w);
        }
        uint256 balance = acct & BALANCE_MASK;
        while (open && block.timestamp >= nextRecord) {
            uint256 w = _periods[cursor];
            if (w == 0 || block.timestamp < CM.recordTime(w)) break;
            open = _payPeriodWord(pay, cfg, cursor, w, balance);
            if (open) ++cursor;
            nextRecord = CM.nextRecordTime(w);
        }
        if (pay.paid == 0 && !pay.redeemed) return pay; // nothing to write (periods of 0 units)
        _accounts[holder] = (acct & ACCOUNT_LOW) | (cursor << CURSOR_SHIFT) | (held << HELD_SHIFT);
        if (pay.redeemed && balance != 0) {
            uint256 frozen = _frozen(acct);
            if (frozen != 0) revert RedemptionWaitsForUnfreeze(holder, frozen);
            _update(holder, address(0), balance, MODE_BURN);
        }
        if (pay.net != 0) _payOut(address(uint160(cfg)), holder, pay.net);
    }

    function _payPeriod(Payment memory pay, uint256 cfg, uint256 p, uint256 units) private returns (bool) {
        return _payPeriodWord(pay, cfg, p, _periods[p], units);
    }

    /// @dev pays one period of `units` held at its record time; false (and why) when it is not payable
    function _payPeriodWord(Payment memory pay, uint256 cfg, uint256 p, uint256 w, uint256 units)
        private
        returns (bool)
    {
        // the final period redeems (burns) the units even when its claim window has closed
        if (
            units != 0 && w & CM.FINAL != 0
                && (w & CM.SWEPT != 0 || (block.timestamp >= CM.paymentTime(w) && w & CM.FUNDED != 0))
        ) {
            pay.redeemed = true;
        }
        if (units == 0) {
            ++pay.periods; // nothing owed for it, payable or not
            return true;
        }
        if (w & CM.SWEPT != 0) {
            ++pay.periods;
            if (units != 0) {
                ++pay.paid;
                emit EntitlementForfeited(pay.holder, p, units);
            }
            return true;
        }
        if (block.timestamp < CM.paymentTime(w)) {
            (pay.stop, pay.stopPeriod) = (STOP_NOT_DUE, p);
            return false;
        }
        if (w & CM.FUNDED == 0) {
            (pay.stop, pay.stopPeriod) = (STOP_NOT_FUNDED, p);
            return false;
        }
        ++pay.periods;
        ++pay.paid;
        (uint256 coupon, uint256 principal) = CM.amounts(w, units);
        uint256 unit = CM.payUnit(w);
        // slither-disable-next-line uninitialized-local -- zero is the intended initial value
        uint256 taxN;
        // slither-disable-next-line uninitialized-local -- zero is the intended initial value
        uint256 taxL;
        if (coupon != 0) {
            (uint256 rateN, uint256 rateL) = CM.splitRates(_ratesFor(pay, cfg, p, w));
            taxN = coupon * rateN / CM.RATE_SCALE;
            // slither-disable-next-line divide-before-multiply -- intended: tax floored in rounding units, then scaled
            taxL = coupon * rateL / CM.RATE_SCALE;
            emit CouponPaid(pay.holder, p, coupon * unit, taxN * unit, taxL * unit, (coupon - taxN - taxL) * unit);
        }
        if (principal != 0) emit PrincipalPaid(pay.holder, p, units, principal * unit);
        // rounding units; none of the four sums can exceed the funded amount (< 2^64 rounding units)
        _periodPaid[p] += coupon | (taxN << 64) | (taxL << 128) | (principal << 192);
        pay.net += (coupon - taxN - taxL + principal) * unit;
        return true;
    }

    /// @dev The rate lane (see {CouponMath-RATE_SET}) of the holder's tax category for period `p`.
    /// The category is the registry's when the holder is paid (withholding is the payer's duty at
    /// payment). A holder the registry does not know (removed since), or whose category has no
    /// rates on this bond, is withheld at the highest rates the bond has for the period: never
    /// less. With no rates at all the payment waits ({TaxRatesNotSet}).
    function _ratesFor(Payment memory pay, uint256 cfg, uint256 p, uint256 w) private view returns (uint256) {
        uint256 category = pay.category;
        if (category == 0) {
            uint256 record = _recordOf(pay.holder);
            category = uint64(record) == 0 ? UNKNOWN_CATEGORY : uint8(record >> InvestorRecord.TAX_SHIFT) + 1;
            pay.category = category;
        }
        bool fixedRates = w & CM.TAX_FIXED != 0;
        --category;
        uint256 lane;
        if (category <= CM.MAX_CATEGORY) {
            uint256 word = category < CM.LOW_CATEGORIES
                ? (fixedRates ? _periodTaxRates[p][0] : cfg)
                : (fixedRates ? _periodTaxRates[p][1] : _taxRatesHigh);
            lane = uint32(word >> CM.rateShift(category));
            if (lane & CM.RATE_SET != 0) return lane;
        }
        lane = fixedRates
            ? CM.highestRates(_periodTaxRates[p][0], _periodTaxRates[p][1])
            : CM.highestRates(cfg, _taxRatesHigh);
        if (lane == 0) revert TaxRatesNotSet(pay.holder, category);
        return lane;
    }

    /// @dev sends settlement tokens from the bond's escrow; reverts when the token refuses (a
    /// failed call, or a return value other than nothing or true). The token is a contract
    /// (checked when the schedule was set).
    function _payOut(address token, address to, uint256 amount) private {
        bool ok;
        bool starved;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, shl(224, 0xa9059cbb)) // transfer(address,uint256)
            mstore(add(m, 0x04), to)
            mstore(add(m, 0x24), amount)
            let before := gas()
            ok := call(gas(), token, 0, m, 0x44, 0, 0x20)
            // a call that failed with no more than 1/64 of the gas left ran out of gas
            starved := and(iszero(ok), iszero(gt(gas(), div(before, 64))))
            ok := and(ok, or(iszero(returndatasize()), and(gt(returndatasize(), 31), eq(mload(0), 1))))
        }
        if (starved) revert PaymentOutOfGas();
        if (!ok) revert SettlementTransferFailed(to, amount);
    }

    function _revertNothing(Payment memory pay) private view {
        if (pay.stop == STOP_NOT_DUE) revert NotYetPayable(pay.stopPeriod, CM.paymentTime(_periods[pay.stopPeriod]));
        if (pay.stop == STOP_NOT_FUNDED) revert PeriodNotFunded(pay.stopPeriod);
        revert NothingOwed(pay.holder);
    }
}
