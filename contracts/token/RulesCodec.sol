// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IBondTerms} from "../interfaces/IBondTerms.sol";

/// @title RulesCodec
/// @notice Packs a bond's transfer rules into the seven 256-bit words a clone carries as immutable
/// arguments (and that an amendment stores), validating them on the way.
/// @dev Word 0 = tradingUnit (bits 0-127) | maxBalance (128-255); word 1 = allowedClasses (0-31) |
/// lockupUntil (32-71) | maxHolders (72-103) | countryMode (104-111) | perInvestor (112-119) |
/// regionCount (120-127); words 2-5 = the 1024-bit country bitmap; word 6 = up to eight 32-bit
/// region codes.
library RulesCodec {
    uint256 internal constant WORDS = 7;
    uint256 internal constant LOCKUP_SHIFT = 32;
    uint256 internal constant MAX_HOLDERS_SHIFT = 72;
    uint256 internal constant COUNTRY_MODE_SHIFT = 104;
    uint256 internal constant PER_INVESTOR_SHIFT = 112;
    uint256 internal constant REGION_COUNT_SHIFT = 120;

    /// @notice The rules are inconsistent.
    /// @param reason what is wrong
    error InvalidRules(string reason);

    /// @notice Packs and validates rules into the seven words a clone carries as immutable args.
    /// @param r the rules
    /// @return words the packed rules
    function pack(IBondTerms.Rules calldata r) internal pure returns (uint256[WORDS] memory words) {
        if (r.tradingUnit == 0) revert InvalidRules("tradingUnit must be at least 1");
        if (r.maxBalance != 0 && r.maxBalance % r.tradingUnit != 0) {
            revert InvalidRules("maxBalance must be a multiple of tradingUnit");
        }
        if (r.countryMode > 2) revert InvalidRules("countryMode must be 0, 1 or 2");
        words[0] = uint256(r.tradingUnit) | (uint256(r.maxBalance) << 128);
        // slither-disable-next-line uninitialized-local -- zero is the intended initial value
        uint256 regionCount;
        // slither-disable-next-line uninitialized-local -- zero is the intended initial value
        uint256 w6;
        for (uint256 i; i < 8; ++i) {
            uint32 region = r.regions[i];
            if (region == 0) continue;
            if (region < 100 ? region > 47 : (region < 10000 || region > 999999)) {
                revert InvalidRules("regions must be prefectures 1-47 or 6-digit JIS codes");
            }
            w6 |= uint256(region) << (32 * regionCount);
            ++regionCount;
        }
        words[1] = uint256(r.allowedClasses) | (uint256(r.lockupUntil) << LOCKUP_SHIFT)
            | (uint256(r.maxHolders) << MAX_HOLDERS_SHIFT) | (uint256(r.countryMode) << COUNTRY_MODE_SHIFT)
            | ((r.perInvestor ? uint256(1) : 0) << PER_INVESTOR_SHIFT) | (regionCount << REGION_COUNT_SHIFT);
        for (uint256 i; i < 4; ++i) {
            words[2 + i] = r.countries[i];
        }
        words[6] = w6;
    }
}
