// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title CouponMath
/// @notice The packing of a payment period and the integer arithmetic of what it pays.
///
/// Period word `_periods[p]` (bit offsets):
///   0-39    record time: whoever holds the units then is paid for this period
///   40-79   payment time: payable from then on, once fully funded
///   80-127  coupon per 1 unit of face (the currency's, e.g. 1 JPY), scaled by 10^interestDecimals
///   128-175 principal per 1 unit of face, same scale (amortisation, call or final redemption)
///   176-183 flags: FUNDED, FINAL (the last period: redemption, tokens burned), SWEPT (the
///           claim window closed and unclaimed funds went back), TAX_FIXED (rates kept per
///           period), NEXT_FINAL (the next period is the final one)
///   184-191 divisor exponent e: a holding of u token units is worth u x perUnit / 10^e rounding
///           units (e = token decimals + interest decimals + log10 of the rounding unit)
///   192-199 pay exponent: settlement-token units per rounding unit = 10^payExp
///   200-239 the next period's record time (the largest time for the final period), so that
///           passing a record time and paying a period read one period word, not two
///
/// A holder's gross for a period is computed on the whole holding and floored to the rounding
/// unit (1 JPY by Japanese convention, however fine the settlement token's units are); each tax
/// part is floored the same way. Everything else (the dust) stays with the payer.
library CouponMath {
    uint256 internal constant PAYMENT_SHIFT = 40;
    uint256 internal constant COUPON_SHIFT = 80;
    uint256 internal constant PRINCIPAL_SHIFT = 128;
    uint256 internal constant DIV_EXP_SHIFT = 184;
    uint256 internal constant PAY_EXP_SHIFT = 192;
    uint256 internal constant NEXT_RECORD_SHIFT = 200;
    uint256 internal constant FUNDED = 1 << 176;
    uint256 internal constant FINAL = 1 << 177;
    uint256 internal constant SWEPT = 1 << 178;
    uint256 internal constant TAX_FIXED = 1 << 179;
    uint256 internal constant NEXT_FINAL = 1 << 180;
    /// @dev the largest coupon or principal per unit a period word holds
    uint256 internal constant MAX_PER_UNIT = type(uint48).max;
    /// @dev withholding rates are in units of 0.001% (20.315% = 20315)
    uint256 internal constant RATE_SCALE = 100_000;
    /// @dev tax categories 0-2 sit in the config word from bit 160, 3-10 in the high word
    uint256 internal constant LOW_CATEGORIES = 3;
    uint256 internal constant MAX_CATEGORY = 10;
    uint256 internal constant LOW_RATES_SHIFT = 160;
    /// @dev A category's 32-bit rate lane: national rate 0-15, local rate 16-30, and this flag,
    /// set when the admin gave the category rates. A holder whose category has no rates (or who
    /// is not in the registry) is withheld at the highest rates the bond has: withholding never
    /// fails open, and exemption is a category set to 0%.
    uint256 internal constant RATE_SET = 1 << 31;
    /// @dev the largest local rate a lane holds (32.767%)
    uint256 internal constant MAX_LOCAL_RATE = (1 << 15) - 1;
    /// @dev the largest coupon, tax or principal total of a period, in rounding units (the
    /// per-period paid totals are 64-bit lanes)
    uint256 internal constant MAX_PERIOD_TOTAL = type(uint64).max;
    /// @dev the largest amount a period may need, in settlement-token units (the funded lane)
    uint256 internal constant MAX_PERIOD_FUNDING = type(uint128).max;

    function recordTime(uint256 w) internal pure returns (uint256) {
        return uint40(w);
    }

    function paymentTime(uint256 w) internal pure returns (uint256) {
        return uint40(w >> PAYMENT_SHIFT);
    }

    function couponPerUnit(uint256 w) internal pure returns (uint256) {
        return uint48(w >> COUPON_SHIFT);
    }

    function principalPerUnit(uint256 w) internal pure returns (uint256) {
        return uint48(w >> PRINCIPAL_SHIFT);
    }

    /// @dev the record time of the period after this one (the largest time after the final one)
    function nextRecordTime(uint256 w) internal pure returns (uint256) {
        return uint40(w >> NEXT_RECORD_SHIFT);
    }

    /// @dev settlement-token units per rounding unit
    function payUnit(uint256 w) internal pure returns (uint256) {
        return 10 ** uint8(w >> PAY_EXP_SHIFT);
    }

    /// @dev coupon and principal of a holding of `units`, each floored to rounding units
    function amounts(uint256 w, uint256 units) internal pure returns (uint256 coupon, uint256 principal) {
        uint256 d = 10 ** uint8(w >> DIV_EXP_SHIFT);
        coupon = units * uint48(w >> COUPON_SHIFT) / d;
        principal = units * uint48(w >> PRINCIPAL_SHIFT) / d;
    }

    /// @dev what the period needs when `supply` units are outstanding at its record time, in
    /// settlement-token units: the floored amount of the whole supply, which is never less than
    /// the sum of the holders' floored amounts (the difference is the dust)
    function required(uint256 w, uint256 supply) internal pure returns (uint256) {
        (uint256 coupon, uint256 principal) = amounts(w, supply);
        return (coupon + principal) * payUnit(w);
    }

    /// @dev the national and local rates of a rate lane (the RATE_SET flag dropped)
    function splitRates(uint256 lane) internal pure returns (uint256 national, uint256 local) {
        return (uint16(lane), (lane >> 16) & MAX_LOCAL_RATE);
    }

    /// @dev the lane with the highest total rate among the categories that have rates in the two
    /// rate words (`low`: categories 0-2 from bit 160; `high`: 3-10); 0 when none has rates
    function highestRates(uint256 low, uint256 high) internal pure returns (uint256 best) {
        uint256 bestTotal = 0;
        for (uint256 c; c <= MAX_CATEGORY; ++c) {
            uint256 lane = uint32((c < LOW_CATEGORIES ? low : high) >> rateShift(c));
            if (lane & RATE_SET == 0) continue;
            (uint256 n, uint256 l) = splitRates(lane);
            if (best == 0 || n + l > bestTotal) (best, bestTotal) = (lane, n + l);
        }
    }

    /// @dev the position of a tax category's rates in its rate word (national 16 bits, local 16 bits)
    function rateShift(uint256 category) internal pure returns (uint256) {
        return category < LOW_CATEGORIES ? LOW_RATES_SHIFT + 32 * category : 32 * (category - LOW_CATEGORIES);
    }
}
