// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";

/// @title InvestorRecord
/// @notice Packing of an investor wallet's record into one 256-bit word.
/// @dev Layout (bit offsets): investorId 0-63, country 64-79, investorClass 80-87, taxCategory 88-95,
/// region 96-127, kycValidUntil 128-167, flags 168-183. A record is registered when investorId != 0.
library InvestorRecord {
    uint256 internal constant ID_MASK = (1 << 64) - 1;
    uint256 internal constant COUNTRY_SHIFT = 64;
    uint256 internal constant CLASS_SHIFT = 80;
    uint256 internal constant TAX_SHIFT = 88;
    uint256 internal constant REGION_SHIFT = 96;
    uint256 internal constant KYC_SHIFT = 128;
    uint256 internal constant FLAGS_SHIFT = 168;
    /// @dev flags bit 0: the registrar suspended the investor
    uint256 internal constant FLAG_SUSPENDED = 1;

    function pack(IInvestorRegistry.Investor memory inv) internal pure returns (uint256) {
        return uint256(inv.investorId) | (uint256(inv.country) << COUNTRY_SHIFT)
            | (uint256(inv.investorClass) << CLASS_SHIFT) | (uint256(inv.taxCategory) << TAX_SHIFT)
            | (uint256(inv.region) << REGION_SHIFT) | (uint256(inv.kycValidUntil) << KYC_SHIFT)
            | (uint256(inv.flags) << FLAGS_SHIFT);
    }

    function unpack(uint256 r) internal pure returns (IInvestorRegistry.Investor memory inv) {
        inv.investorId = uint64(r);
        inv.country = uint16(r >> COUNTRY_SHIFT);
        inv.investorClass = uint8(r >> CLASS_SHIFT);
        inv.taxCategory = uint8(r >> TAX_SHIFT);
        inv.region = uint32(r >> REGION_SHIFT);
        inv.kycValidUntil = uint40(r >> KYC_SHIFT);
        inv.flags = uint16(r >> FLAGS_SHIFT);
    }

    function investorId(uint256 r) internal pure returns (uint64) {
        return uint64(r);
    }

    function country(uint256 r) internal pure returns (uint256) {
        return uint16(r >> COUNTRY_SHIFT);
    }

    function investorClass(uint256 r) internal pure returns (uint256) {
        return uint8(r >> CLASS_SHIFT);
    }

    function taxCategory(uint256 r) internal pure returns (uint256) {
        return uint8(r >> TAX_SHIFT);
    }

    function region(uint256 r) internal pure returns (uint256) {
        return uint32(r >> REGION_SHIFT);
    }

    function kycValidUntil(uint256 r) internal pure returns (uint256) {
        return uint40(r >> KYC_SHIFT);
    }

    function suspended(uint256 r) internal pure returns (bool) {
        return (r >> FLAGS_SHIFT) & FLAG_SUSPENDED != 0;
    }
}
