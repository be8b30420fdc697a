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

    /// @dev the position of a tax category's rates in its rate word (national 16 bits, local 16 bits)
    function rateShift(uint256 category) internal pure returns (uint256) {
        return category < LOW_CATEGORIES ? LOW_RATES_SHIFT + 32 * category : 32 * (category - LOW_CATEGORIES);
    }
}
