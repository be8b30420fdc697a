// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {CouponEntitlement} from "./CouponEntitlement.sol";
import {CouponMath as CM} from "./CouponMath.sol";

/// @title BondCoupons
/// @notice The payment side of a bond that is not on a holder's path: the schedule of payment
/// periods (coupons, amortisations, the final redemption), funding, withholding tax rates and
/// remittance, the return of unclaimed funds after the claim window, the issuer's call, and the
/// views of all of it. A bond clone reaches it through {BondServicing}'s fallback, on the clone's
/// storage. Paying holders is in {CouponPayments} (in {BondToken}, where claims cost least).
contract BondCoupons is CouponEntitlement, AccessControlUpgradeable {
    using SafeERC20 for IERC20;

    /// @notice One payment period as written at issue.
    /// @param recordTime unix time: the holders of record are those holding then
    /// @param paymentTime unix time from which the period is payable (once funded)
    /// @param couponPerUnit coupon per 1 unit of face (e.g. 1 JPY), scaled by 10^interest decimals
    /// @param principalPerUnit principal per 1 unit of face, same scale (0 = none; the last
    /// period's is the redemption)
    struct PeriodTerms {
        uint40 recordTime;
        uint40 paymentTime;
        uint64 couponPerUnit;
        uint64 principalPerUnit;
    }

    /// @notice The issuer's call right, fixed with the schedule before issue and enforced by
    /// {announceCall}. A call pays at least the face outstanding before the called payment at the
    /// call price: the principal still scheduled from that period on (at the redemption price)
    /// x callPrice / redemptionPrice.
    /// @param notice minimum seconds between a call's announcement and its payment time
    /// @param firstCallTime the earliest payment time a call may take effect at (0: any)
    /// @param callPrice the call price in millionths of the outstanding face (100% = 1,000,000;
    /// 0: the bond cannot be called)
    /// @param redemptionPrice the redemption price the schedule's principal is paid at, in
    /// millionths of face (100% = 1,000,000)
    struct CallTerms {
        uint40 notice;
        uint40 firstCallTime;
        uint32 callPrice;
        uint32 redemptionPrice;
    }

    /// @notice Emitted when the payment schedule is written (before issue).
    /// @param periods the periods; the last is the final redemption
    /// @param settlementToken the token payments are made in
    /// @param divisorExponent a holding of u units is worth u x perUnit / 10^divisorExponent rounding units
    /// @param payExponent settlement-token units per rounding unit = 10^payExponent
    /// @param claimWindow seconds after a payment time after which unclaimed funds may go back
    /// @param callTerms the issuer's call right (notice, first call time, call and redemption price)
    event ScheduleSet(
        PeriodTerms[] periods,
        address indexed settlementToken,
        uint8 divisorExponent,
        uint8 payExponent,
        uint40 claimWindow,
        CallTerms callTerms
    );
    /// @notice Emitted when a period is funded.
    /// @param period the period
    /// @param funder who paid in
    /// @param amount settlement-token units paid in
    /// @param funded total funded for the period
    /// @param required what the period needs
    event PeriodFunded(uint256 indexed period, address indexed funder, uint256 amount, uint256 funded, uint256 required);
    /// @notice Emitted when a period is due but not fully funded: the first signal of a default.
    /// @param period the period
    /// @param required what it needs
    /// @param funded what it has
    event FundingShortfall(uint256 indexed period, uint256 required, uint256 funded);
    /// @notice Emitted when the admin sets a tax category's withholding rates.
    /// @param category the tax category (registry code)
    /// @param oldNationalRate the national rate before, in 0.001%
    /// @param oldLocalRate the local rate before, in 0.001%
    /// @param wasSet whether the category had rates before (if not, its holders were withheld at
    /// the bond's highest rates)
    /// @param nationalRate national income tax now, in 0.001% (15.315% = 15315)
    /// @param localRate local inhabitant tax now, in 0.001%
    /// @param admin who set them
    event TaxRatesSet(
        uint8 indexed category,
        uint16 oldNationalRate,
        uint16 oldLocalRate,
        bool wasSet,
        uint16 nationalRate,
        uint16 localRate,
        address indexed admin
    );
    /// @notice Emitted when a payable period keeps the rates in force before a change.
    /// @param period the period
    event PeriodTaxRatesFixed(uint256 indexed period);
    /// @notice Emitted when the admin sets the account withheld tax is remitted to.
    /// @param account the tax account
    /// @param admin who set it
    event TaxAccountSet(address indexed account, address indexed admin);
    /// @notice Emitted when withheld tax is remitted.
    /// @param period the period
    /// @param account the tax account
    /// @param amount settlement-token units
    event TaxRemitted(uint256 indexed period, address indexed account, uint256 amount);
    /// @notice Emitted when a period's unclaimed funds (rounding dust and lapsed entitlements) go
    /// back after its claim window; later claims for it lapse.
    /// @param period the period
    /// @param to where the funds went
    /// @param amount settlement-token units
    event UnclaimedReturned(uint256 indexed period, address indexed to, uint256 amount);
    /// @notice Emitted when the issuer calls the bond: `period` becomes the final redemption.
    /// @param period the period
    /// @param paymentTime when the bond is redeemed
    /// @param principalPerUnit the call price per 1 unit of face (scaled as the schedule)
    /// @param issuer who called it
    event CallAnnounced(uint256 indexed period, uint256 paymentTime, uint64 principalPerUnit, address indexed issuer);

    /// @notice The schedule is malformed.
    /// @param period the offending period
    /// @param reason what is wrong
    error InvalidSchedule(uint256 period, string reason);
    /// @notice The schedule cannot change once units are issued.
    error ScheduleFixedAfterIssue();
    /// @notice There is no such period.
    /// @param period the period
    error NoSuchPeriod(uint256 period);
    /// @notice Funding must be exactly what the period still needs.
    /// @param period the period
    /// @param expected settlement-token units still needed
    /// @param given the amount offered
    error WrongFundingAmount(uint256 period, uint256 expected, uint256 given);
    /// @notice The period needs no more funding.
    /// @param period the period
    error AlreadyFunded(uint256 period);
    /// @notice The period's claim window closed: it takes no funding and pays nothing more.
    /// @param period the period
    error PeriodSwept(uint256 period);
    /// @notice The settlement token took a different amount than asked (a fee-charging token).
    /// @param expected units asked
    /// @param received units received
    error FundingAmountMismatch(uint256 expected, uint256 received);
    /// @notice The period is not in shortfall (not yet due, or fully funded).
    /// @param period the period
    error NoShortfall(uint256 period);
    /// @notice A tax category or rate is out of range.
    /// @param category the category (0-10)
    /// @param nationalRate national rate in 0.001%
    /// @param localRate local rate in 0.001%
    error InvalidTaxRates(uint256 category, uint256 nationalRate, uint256 localRate);
    /// @notice No tax account is set (see `setTaxAccount`).
    error NoTaxAccount();
    /// @notice Nothing withheld for the period is left to remit.
    /// @param period the period
    error NothingToRemit(uint256 period);
    /// @notice The period was never fully funded: its holders stay owed, nothing is returned.
    /// @param period the period
    error NotFunded(uint256 period);
    /// @notice The period's claim window is still open.
    /// @param period the period
    /// @param closesAt when it closes
    error ClaimWindowOpen(uint256 period, uint256 closesAt);
    /// @notice A call must be announced at least the notice period before its payment time, for a
    /// period whose record time has not passed.
    /// @param period the period
    /// @param announceBy the latest announcement time
    error CallNoticeTooShort(uint256 period, uint256 announceBy);
    /// @notice The bond's terms give the issuer no call right.
    error NotCallable();
    /// @notice A call may not take effect before the first call date of the bond's terms.
    /// @param period the period
    /// @param paymentTime the period's payment time
    /// @param firstCallTime the first call date
    error CallBeforeFirstCallDate(uint256 period, uint256 paymentTime, uint256 firstCallTime);
    /// @notice The call price is below the minimum of the bond's terms.
    /// @param price the price offered, per unit of face (scaled as the schedule)
    /// @param minPrice the minimum
    error CallPriceBelowTerms(uint256 price, uint256 minPrice);
    /// @notice A period's totals could exceed what the bond can account for: the issue volume is
    /// too large for the rounding unit (or the settlement token's units too fine).
    /// @param period the period
    /// @param total the largest total of its coupon or principal lane, in rounding units
    /// @param limit the largest total a period can account for
    /// @param maxIssueVolume the largest issue volume (token units) the period allows
    error PeriodTotalTooLarge(uint256 period, uint256 total, uint256 limit, uint256 maxIssueVolume);

    constructor() {
        _disableInitializers();
    }

    // ------------------------------------------------------------------ schedule

    /// @notice Writes the payment schedule (admin, before the first unit is issued). Periods must
    /// be in strictly increasing time (each record time before its payment time, which is before
    /// the next record time), the first record time in the future, the last payment at or before
    /// maturity; the last period is the final redemption and must pay principal.
    /// @param periods the periods
    /// @param settlementToken the token payments are made in
    /// @param divisorExponent token decimals + interest decimals + log10(rounding unit)
    /// @param payExponent settlement-token decimals + log10(rounding unit)
    /// Every period's totals over the whole issue volume must fit the bond's accounting (see
    /// {PeriodTotalTooLarge}), so that no holding and no sum of holdings can ever wrap.
    /// @param claimWindow seconds after each payment time before unclaimed funds may go back (> 0)
    /// @param call_ the issuer's call right (see {CallTerms}; a call price of 0: none)
    function setSchedule(
        PeriodTerms[] calldata periods,
        address settlementToken,
        uint8 divisorExponent,
        uint8 payExponent,
        uint40 claimWindow,
        CallTerms calldata call_
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 state = _state;
        if (state & STATE_ISSUED != 0) revert ScheduleFixedAfterIssue();
        uint256 n = periods.length;
        if (n == 0 || n > 255) revert InvalidSchedule(n, "between 1 and 255 periods");
        if (settlementToken.code.length == 0) revert InvalidSchedule(0, "settlement token is not a contract");
        if (divisorExponent > 77 || payExponent > 77) revert InvalidSchedule(0, "exponent above 77");
        if (claimWindow == 0) revert InvalidSchedule(0, "claim window must be positive");
        uint256 previous = block.timestamp;
        uint256 exps = (uint256(divisorExponent) << CM.DIV_EXP_SHIFT) | (uint256(payExponent) << CM.PAY_EXP_SHIFT);
        for (uint256 i; i < n; ++i) {
            PeriodTerms calldata t = periods[i];
            if (t.recordTime <= previous) revert InvalidSchedule(i, "record time not after the previous time");
            if (t.paymentTime <= t.recordTime) revert InvalidSchedule(i, "payment time not after record time");
            previous = t.paymentTime;
            if (t.couponPerUnit > CM.MAX_PER_UNIT || t.principalPerUnit > CM.MAX_PER_UNIT) {
                revert InvalidSchedule(i, "amount per unit above 2^48");
            }
            uint256 w = uint256(t.recordTime) | (uint256(t.paymentTime) << CM.PAYMENT_SHIFT)
                | (uint256(t.couponPerUnit) << CM.COUPON_SHIFT) | (uint256(t.principalPerUnit) << CM.PRINCIPAL_SHIFT) | exps;
            _checkTotals(i, w);
            if (i == n - 1) {
                w |= CM.FINAL | (uint256(type(uint40).max) << CM.NEXT_RECORD_SHIFT);
            } else {
                w |= uint256(periods[i + 1].recordTime) << CM.NEXT_RECORD_SHIFT;
                if (i == n - 2) w |= CM.NEXT_FINAL;
            }
            _periods[i] = w;
            delete _periodFunds[i];
        }
        if (previous > _maturity(state)) revert InvalidSchedule(n - 1, "payment after maturity");
        if (periods[n - 1].principalPerUnit == 0) revert InvalidSchedule(n - 1, "final period pays no principal");
        if (call_.callPrice != 0 && call_.redemptionPrice == 0) revert InvalidSchedule(0, "redemption price must be positive");
        uint256 terms = _payTerms;
        for (uint256 i = n; i < uint8(terms); ++i) {
            delete _periods[i];
            delete _periodFunds[i];
        }
        _payTerms = n | (uint256(claimWindow) << 16) | (uint256(call_.notice) << 56)
            | (uint256(call_.firstCallTime) << CALL_FIRST_SHIFT) | (uint256(call_.callPrice) << CALL_PRICE_SHIFT)
            | (uint256(call_.redemptionPrice) << CALL_REDEMPTION_SHIFT);
        _payConfig = (_payConfig & ~uint256(type(uint160).max)) | uint160(settlementToken);
        state &= ~(STATE_FINAL_DUE | STATE_ALL_RECORDED | (type(uint256).max << RECORDED_SHIFT));
        state |= STATE_SCHEDULED | (uint256(periods[0].recordTime) << NEXT_RECORD_SHIFT);
        if (n == 1) state |= STATE_FINAL_DUE;
        _state = state;
        emit ScheduleSet(periods, settlementToken, divisorExponent, payExponent, claimWindow, call_);
    }

    /// @notice The issuer's call right written with the schedule (see {CallTerms}).
    /// @return terms notice, first call time, call price and redemption price (millionths)
    function callTerms() external view returns (CallTerms memory terms) {
        uint256 t = _payTerms;
        terms.notice = uint40(t >> 56);
        terms.firstCallTime = uint40(t >> CALL_FIRST_SHIFT);
        terms.callPrice = uint32(t >> CALL_PRICE_SHIFT);
        terms.redemptionPrice = uint32(t >> CALL_REDEMPTION_SHIFT);
    }

    /// @notice The lowest price per unit of face a call of `period` may pay (scaled as the
    /// schedule): the principal still scheduled from `period` on x callPrice / redemptionPrice.
    /// @param period the period
    /// @return the minimum `principalPerUnit` of {announceCall}
    function minCallPrincipal(uint256 period) public view returns (uint256) {
        _period(period);
        uint256 t = _payTerms;
        uint256 remaining = 0;
        for (uint256 p = period; p < uint8(t); ++p) {
            remaining += CM.principalPerUnit(_periods[p]);
        }
        uint256 redemption = uint32(t >> CALL_REDEMPTION_SHIFT);
        return redemption == 0 ? 0 : remaining * uint32(t >> CALL_PRICE_SHIFT) / redemption;
    }

    /// @dev refuses a period word whose coupon or principal over the whole issue volume would not
    /// fit the paid-totals lanes, or whose funding would not fit the funded lane
    function _checkTotals(uint256 period, uint256 w) private view {
        uint256 volume = _issueVolumeUnits;
        (uint256 coupon, uint256 principal) = CM.amounts(w, volume);
        uint256 largest = coupon > principal ? coupon : principal;
        uint256 perUnit = CM.couponPerUnit(w) > CM.principalPerUnit(w) ? CM.couponPerUnit(w) : CM.principalPerUnit(w);
        uint256 unit = CM.payUnit(w);
        uint256 limit = CM.MAX_PERIOD_FUNDING / unit / 2; // coupon + principal, in rounding units
        if (limit > CM.MAX_PERIOD_TOTAL) limit = CM.MAX_PERIOD_TOTAL;
        if (largest <= limit) return;
        // the largest volume whose total stays within the limit: volume x perUnit / 10^e <= limit
        uint256 e = uint8(w >> CM.DIV_EXP_SHIFT);
        uint256 maxVolume = e <= 57 ? ((limit + 1) * 10 ** e - 1) / perUnit : volume;
        revert PeriodTotalTooLarge(period, largest, limit, maxVolume);
    }

    /// @notice The payment schedule.
    /// @return periods the periods (the last is the final redemption)
    function paymentSchedule() external view returns (PeriodTerms[] memory periods) {
        uint256 n = uint8(_payTerms);
        periods = new PeriodTerms[](n);
        for (uint256 i; i < n; ++i) {
            uint256 w = _periods[i];
            periods[i] = PeriodTerms(
                uint40(w), uint40(w >> CM.PAYMENT_SHIFT), uint48(w >> CM.COUPON_SHIFT), uint48(w >> CM.PRINCIPAL_SHIFT)
            );
        }
    }

    /// @notice How payments are made and where the bond stands.
    /// @return settlementToken the token payments are made in (zero before a schedule)
    /// @return periodCount the number of periods
    /// @return periodsRecorded how many record times have passed
    /// @return divisorExponent see {setSchedule}
    /// @return payExponent see {setSchedule}
    /// @return claimWindow seconds
    /// @return callNotice seconds
    function paymentTerms()
        external
        view
        returns (
            address settlementToken,
            uint256 periodCount,
            uint256 periodsRecorded,
            uint256 divisorExponent,
            uint256 payExponent,
            uint256 claimWindow,
            uint256 callNotice
        )
    {
        uint256 terms = _payTerms;
        uint256 w = _periods[0];
        return (
            address(uint160(_payConfig)),
            uint8(terms),
            uint8(_advance(_state) >> RECORDED_SHIFT),
            uint8(w >> CM.DIV_EXP_SHIFT),
            uint8(w >> CM.PAY_EXP_SHIFT),
            uint40(terms >> 16),
            uint40(terms >> 56)
        );
    }

    /// @notice One period's state.
    /// @param period the period
    /// @return recordTime record time
    /// @return paymentTime payment time
    /// @return couponPerUnit coupon per unit of face (scaled)
    /// @return principalPerUnit principal per unit of face (scaled)
    /// @return isFinal whether it is the final redemption
    /// @return funded whether it is fully funded
    /// @return swept whether its claim window closed and unclaimed funds went back
    function periodInfo(uint256 period)
        external
        view
        returns (
            uint256 recordTime,
            uint256 paymentTime,
            uint256 couponPerUnit,
            uint256 principalPerUnit,
            bool isFinal,
            bool funded,
            bool swept
        )
    {
        uint256 w = _period(period);
        return (
            CM.recordTime(w),
            CM.paymentTime(w),
            CM.couponPerUnit(w),
            CM.principalPerUnit(w),
            w & CM.FINAL != 0,
            w & CM.FUNDED != 0,
            w & CM.SWEPT != 0
        );
    }

    // ------------------------------------------------------------------ funding

    /// @notice What a period needs in settlement-token units: its coupon and principal on the
    /// units outstanding at its record time (today's supply until then), floored to the rounding
    /// unit.
    /// @param period the period
    /// @return the amount
    function requiredFunding(uint256 period) public view returns (uint256) {
        return CM.required(_period(period), _supplyAtRecord(period));
    }

    /// @notice A period's funding: what it needs, has, lacks, and whether it is payable now.
    /// @param period the period
    /// @return required what it needs
    /// @return funded what it has
    /// @return shortfall what it lacks
    /// @return payableNow whether holders can be paid for it now
    function fundingStatus(uint256 period)
        external
        view
        returns (uint256 required, uint256 funded, uint256 shortfall, bool payableNow)
    {
        uint256 w = _period(period);
        required = CM.required(w, _supplyAtRecord(period));
        funded = uint128(_periodFunds[period]);
        shortfall = required > funded ? required - funded : 0;
        payableNow = w & CM.FUNDED != 0 && w & CM.SWEPT == 0 && block.timestamp >= CM.paymentTime(w);
    }

    /// @notice Funds a period with exactly what it still needs, from the caller's settlement
    /// tokens (approve the bond first). Paying agent or issuer.
    /// @param period the period
    /// @param amount settlement-token units: must equal `requiredFunding - funded`
    function fund(uint256 period, uint256 amount) external {
        if (!hasRole(ROLE_PAYING_AGENT, msg.sender) && !hasRole(ROLE_ISSUER, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, ROLE_PAYING_AGENT);
        }
        uint256 w = _period(period);
        if (w & CM.SWEPT != 0) revert PeriodSwept(period);
        uint256 required = CM.required(w, _supplyAtRecord(period));
        uint256 funds = _periodFunds[period];
        uint256 funded = uint128(funds);
        // a period whose requirement did not grow (or is 0) is marked funded with amount 0
        if (w & CM.FUNDED != 0) revert AlreadyFunded(period);
        uint256 missing = required > funded ? required - funded : 0;
        if (amount != missing) revert WrongFundingAmount(period, missing, amount);
        // effects before the token call (checks-effects-interactions): a token that calls back
        // finds the period funded already
        _periodFunds[period] = funds + amount;
        _periods[period] = w | CM.FUNDED;
        // the periods a mint may have to reopen lie below this bound (see {_beforeSupplyChange})
        uint256 terms = _payTerms;
        if (period >= uint8(terms >> 96)) _payTerms = (terms & ~(uint256(0xff) << 96)) | ((period + 1) << 96);
        IERC20 token = IERC20(address(uint160(_payConfig)));
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        // the escrow must have grown by exactly the amount (a fee-charging token, or one that
        // moved the bond's funds while it had control, is refused and the whole call undone)
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert FundingAmountMismatch(amount, received);
        emit PeriodFunded(period, msg.sender, amount, funded + amount, required);
    }

    /// @notice Emits {FundingShortfall} for a period that is due and not fully funded (anyone).
    /// @param period the period
    function reportShortfall(uint256 period) external {
        uint256 w = _period(period);
        if (w & (CM.FUNDED | CM.SWEPT) != 0 || block.timestamp < CM.paymentTime(w)) revert NoShortfall(period);
        emit FundingShortfall(period, CM.required(w, _supplyAtRecord(period)), uint128(_periodFunds[period]));
    }

    // ------------------------------------------------------------------ tax

    /// @notice Sets a tax category's withholding rates (admin). Periods already payable keep the
    /// rates they became payable with; the others are paid at the new rates. National plus local
    /// is at most 100%. A category that never had rates set (or a holder the registry does not
    /// know) is withheld at the highest rates the bond has; exemption is a category set to 0%.
    /// @param category tax category 0-10 (the registry's code)
    /// @param nationalRate national income tax in 0.001% (15.315% = 15315)
    /// @param localRate local inhabitant tax in 0.001% (5% = 5000; at most 32.767%)
    function setTaxRates(uint8 category, uint16 nationalRate, uint16 localRate) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (
            category > CM.MAX_CATEGORY || localRate > CM.MAX_LOCAL_RATE
                || uint256(nationalRate) + localRate > CM.RATE_SCALE
        ) {
            revert InvalidTaxRates(category, nationalRate, localRate);
        }
        uint256 cfg = _payConfig;
        uint256 high = _taxRatesHigh;
        _fixPayableRates(cfg, high);
        uint256 shift = CM.rateShift(category);
        uint256 old = uint32((category < CM.LOW_CATEGORIES ? cfg : high) >> shift);
        uint256 rates = uint256(nationalRate) | (uint256(localRate) << 16) | CM.RATE_SET;
        if (category < CM.LOW_CATEGORIES) _payConfig = (cfg & ~(uint256(type(uint32).max) << shift)) | (rates << shift);
        else _taxRatesHigh = (high & ~(uint256(type(uint32).max) << shift)) | (rates << shift);
        _emitTaxRatesSet(category, old, nationalRate, localRate);
    }

    /// @dev periods payable now keep the rates in force (they became payable with them); with no
    /// rates at all there is nothing to keep, and their coupons wait for the first rates set
    function _fixPayableRates(uint256 cfg, uint256 high) private {
        if (CM.highestRates(cfg, high) == 0) return;
        uint256 n = uint8(_payTerms);
        for (uint256 p; p < n; ++p) {
            uint256 w = _periods[p];
            if (w & (CM.FUNDED | CM.TAX_FIXED | CM.SWEPT) == CM.FUNDED && block.timestamp >= CM.paymentTime(w)) {
                _periodTaxRates[p] = [cfg, high];
                _periods[p] = w | CM.TAX_FIXED;
                emit PeriodTaxRatesFixed(p);
            }
        }
    }

    function _emitTaxRatesSet(uint8 category, uint256 old, uint16 nationalRate, uint16 localRate) private {
        (uint256 oldN, uint256 oldL) = CM.splitRates(old);
        emit TaxRatesSet(
            category, uint16(oldN), uint16(oldL), old & CM.RATE_SET != 0, nationalRate, localRate, msg.sender
        );
    }

    /// @notice The withholding rates of a tax category now (in 0.001%).
    /// @param category the tax category (0-10)
    /// @return nationalRate national income tax
    /// @return localRate local inhabitant tax
    /// @return isSet whether the category has rates (if not, its holders are withheld at the
    /// bond's highest rates, see {highestTaxRates})
    function taxRates(uint8 category) external view returns (uint16 nationalRate, uint16 localRate, bool isSet) {
        return _splitRates(category < CM.LOW_CATEGORIES ? _payConfig : _taxRatesHigh, category);
    }

    /// @notice The rates a holder whose category has no rates (or who is not in the registry) is
    /// withheld at now: those of the category with the highest total rate.
    /// @return nationalRate national income tax in 0.001%
    /// @return localRate local inhabitant tax in 0.001%
    /// @return isSet false when no category has rates (such a payment then waits for them)
    function highestTaxRates() external view returns (uint16 nationalRate, uint16 localRate, bool isSet) {
        uint256 lane = CM.highestRates(_payConfig, _taxRatesHigh);
        (uint256 n, uint256 l) = CM.splitRates(lane);
        return (uint16(n), uint16(l), lane != 0);
    }

    /// @notice The withholding rates a period pays a tax category at (in 0.001%).
    /// @param period the period
    /// @param category the tax category (0-10)
    /// @return nationalRate national income tax
    /// @return localRate local inhabitant tax
    /// @return isSet whether the category has rates for the period (if not: the highest apply)
    function periodTaxRates(uint256 period, uint8 category)
        external
        view
        returns (uint16 nationalRate, uint16 localRate, bool isSet)
    {
        uint256 w = _period(period);
        uint256 word;
        if (w & CM.TAX_FIXED != 0) word = _periodTaxRates[period][category < CM.LOW_CATEGORIES ? 0 : 1];
        else word = category < CM.LOW_CATEGORIES ? _payConfig : _taxRatesHigh;
        return _splitRates(word, category);
    }

    /// @notice Sets where withheld tax is remitted (admin).
    /// @param account the tax account
    function setTaxAccount(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account == address(0)) revert NoTaxAccount();
        _taxAccount = account;
        emit TaxAccountSet(account, msg.sender);
    }

    /// @notice Where withheld tax is remitted.
    /// @return the tax account
    function taxAccount() external view returns (address) {
        return _taxAccount;
    }

    /// @notice Remits the tax withheld for a period and not yet remitted to the tax account
    /// (paying agent).
    /// @param period the period
    /// @return amount settlement-token units remitted
    function remitTax(uint256 period) external onlyRole(ROLE_PAYING_AGENT) returns (uint256 amount) {
        address account = _taxAccount;
        if (account == address(0)) revert NoTaxAccount();
        uint256 w = _period(period);
        uint256 paid = _periodPaid[period];
        uint256 closed = _periodClosed[period];
        uint256 withheld = (uint64(paid >> 64) + uint64(paid >> 128)) * CM.payUnit(w);
        amount = withheld - uint128(closed);
        if (amount == 0) revert NothingToRemit(period);
        _periodClosed[period] = closed + amount;
        IERC20(address(uint160(_payConfig))).safeTransfer(account, amount);
        emit TaxRemitted(period, account, amount);
    }

    // ------------------------------------------------------------------ after payment

    /// @notice What a period has paid, in settlement-token units.
    /// @param period the period
    /// @return couponGross coupons before tax
    /// @return nationalTax national tax withheld
    /// @return localTax local tax withheld
    /// @return principal principal paid
    /// @return taxRemitted withheld tax remitted to the tax account
    /// @return returned unclaimed funds returned after the claim window
    function periodPayments(uint256 period)
        external
        view
        returns (
            uint256 couponGross,
            uint256 nationalTax,
            uint256 localTax,
            uint256 principal,
            uint256 taxRemitted,
            uint256 returned
        )
    {
        uint256 unit = CM.payUnit(_period(period));
        uint256 paid = _periodPaid[period];
        uint256 closed = _periodClosed[period];
        return (
            uint64(paid) * unit,
            uint64(paid >> 64) * unit,
            uint64(paid >> 128) * unit,
            uint64(paid >> 192) * unit,
            uint128(closed),
            closed >> 128
        );
    }

    /// @notice Returns a fully funded period's unclaimed funds (the rounding dust and
    /// entitlements not claimed) once its claim window has closed (issuer); the period pays
    /// nothing more. Withheld tax not
    /// yet remitted stays for {remitTax}.
    /// @param period the period
    /// @param to where the funds go (the issuer's account)
    /// @return amount settlement-token units returned
    function returnUnclaimed(uint256 period, address to) external onlyRole(ROLE_ISSUER) returns (uint256 amount) {
        uint256 w = _period(period);
        if (w & CM.SWEPT != 0) revert PeriodSwept(period);
        // a period the issuer never fully funded stays owed: its holders' claims do not lapse
        if (w & CM.FUNDED == 0) revert NotFunded(period);
        uint256 closesAt = CM.paymentTime(w) + uint40(_payTerms >> 16);
        if (block.timestamp < closesAt) revert ClaimWindowOpen(period, closesAt);
        uint256 paid = _periodPaid[period];
        amount = uint128(_periodFunds[period]) - (uint64(paid) + uint64(paid >> 192)) * CM.payUnit(w);
        _periods[period] = w | CM.SWEPT;
        _periodClosed[period] += amount << 128;
        if (amount != 0) IERC20(address(uint160(_payConfig))).safeTransfer(to, amount);
        emit UnclaimedReturned(period, to, amount);
    }

    // ------------------------------------------------------------------ call

    /// @notice Calls the bond (issuer): `period` becomes the final redemption at the call price,
    /// later periods are cancelled. Only as the bond's call terms allow (see {callTerms}): a
    /// callable bond, at or above the minimum call price, a payment time on or after the first
    /// call date, announced at least the call notice before that payment time and before its
    /// record time. The called period needs funding again.
    /// @param period the period whose payment time is the call date
    /// @param principalPerUnit the call price per 1 unit of face, scaled as the schedule
    function announceCall(uint256 period, uint64 principalPerUnit) external onlyRole(ROLE_ISSUER) {
        uint256 w = _period(period);
        uint256 state = _advance(_state);
        uint256 terms = _payTerms;
        if (uint32(terms >> CALL_PRICE_SHIFT) == 0) revert NotCallable();
        uint256 notice = uint40(terms >> 56);
        uint256 announceBy = CM.paymentTime(w) > notice ? CM.paymentTime(w) - notice : 0;
        if (
            w & CM.FINAL != 0 || period < uint8(state >> RECORDED_SHIFT) || block.timestamp > announceBy
                || block.timestamp >= CM.recordTime(w)
        ) revert CallNoticeTooShort(period, announceBy);
        uint256 firstCall = uint40(terms >> CALL_FIRST_SHIFT);
        if (CM.paymentTime(w) < firstCall) revert CallBeforeFirstCallDate(period, CM.paymentTime(w), firstCall);
        uint256 minPrice = minCallPrincipal(period);
        if (principalPerUnit < minPrice) revert CallPriceBelowTerms(principalPerUnit, minPrice);
        if (principalPerUnit > CM.MAX_PER_UNIT) revert InvalidSchedule(period, "amount per unit above 2^48");
        // the called period's totals must fit the accounting at the new price
        _checkTotals(period, (w & ~(uint256(type(uint48).max) << CM.PRINCIPAL_SHIFT)) | (uint256(principalPerUnit) << CM.PRINCIPAL_SHIFT));
        uint256 n = uint8(terms);
        for (uint256 p = period + 1; p < n; ++p) {
            if (uint128(_periodFunds[p]) != 0) revert InvalidSchedule(p, "funded: return its funding before a call");
            delete _periods[p];
        }
        _periods[period] = (w
                & ~((uint256(type(uint48).max) << CM.PRINCIPAL_SHIFT) | CM.FUNDED | CM.NEXT_FINAL
                    | (uint256(type(uint40).max) << CM.NEXT_RECORD_SHIFT)))
            | (uint256(principalPerUnit) << CM.PRINCIPAL_SHIFT) | CM.FINAL | (uint256(type(uint40).max) << CM.NEXT_RECORD_SHIFT);
        if (period != 0) _periods[period - 1] |= CM.NEXT_FINAL;
        _payTerms = (terms & ~uint256(0xff)) | (period + 1);
        state = (state & ~(uint256(type(uint40).max) << MATURITY_SHIFT)) | (CM.paymentTime(w) << MATURITY_SHIFT);
        if (period == uint8(state >> RECORDED_SHIFT)) state |= STATE_FINAL_DUE;
        _state = state;
        emit CallAnnounced(period, CM.paymentTime(w), principalPerUnit, msg.sender);
    }

    // ------------------------------------------------------------------ holders

    /// @notice What a holder is owed for periods whose record time has passed and that are not
    /// yet paid to it: the period and the units held at its record time (whatever the holder
    /// did since). Swept periods are included (their entitlement lapses when next paid).
    /// @param holder the wallet
    /// @return periods the periods, in order
    /// @return units units held at each record time
    function entitlementsOf(address holder) external view returns (uint256[] memory periods, uint256[] memory units) {
        uint256 acct = _accounts[holder];
        uint256 recorded = uint8(_advance(_state) >> RECORDED_SHIFT);
        uint256 cursor = uint8(acct >> CURSOR_SHIFT);
        uint256 mask = acct & ACCOUNT_ARREARS != 0 ? _arrearsMask[holder] : 0;
        uint256 held = acct >> HELD_SHIFT;
        uint256 balance = acct & BALANCE_MASK;
        // slither-disable-next-line uninitialized-local -- zero is the intended initial value
        uint256 count;
        for (uint256 m = mask; m != 0; m &= m - 1) ++count;
        if (held != 0) ++count;
        if (balance != 0 && recorded > cursor) count += recorded - cursor;
        periods = new uint256[](count);
        units = new uint256[](count);
        // slither-disable-next-line uninitialized-local -- zero is the intended initial value
        uint256 k;
        for (uint256 p; mask >> p != 0; ++p) {
            if ((mask >> p) & 1 == 0) continue;
            (periods[k], units[k]) = (p, _arrears[holder][p]);
            ++k;
        }
        if (held != 0) {
            (periods[k], units[k]) = (cursor - 1, held);
            ++k;
        }
        for (uint256 p = cursor; balance != 0 && p < recorded; ++p) {
            (periods[k], units[k]) = (p, balance);
            ++k;
        }
    }

    /// @dev the period's word; reverts when there is no such period
    function _period(uint256 period) internal view returns (uint256 w) {
        w = period < 256 ? _periods[period] : 0;
        if (w == 0) revert NoSuchPeriod(period);
    }

    /// @dev units outstanding at the period's record time: kept once the supply changed after it
    function _supplyAtRecord(uint256 period) internal view returns (uint256) {
        if (period < uint8(_payTerms >> 8)) return uint104(_periodFunds[period] >> 128);
        return _state & SUPPLY_MASK;
    }

    function _splitRates(uint256 word, uint256 category) private pure returns (uint16, uint16, bool) {
        if (category > CM.MAX_CATEGORY) revert InvalidTaxRates(category, 0, 0);
        uint256 lane = uint32(word >> CM.rateShift(category));
        (uint256 n, uint256 l) = CM.splitRates(lane);
        return (uint16(n), uint16(l), lane & CM.RATE_SET != 0);
    }
}
