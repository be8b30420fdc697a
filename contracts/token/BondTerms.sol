// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {IBondTerms} from "../interfaces/IBondTerms.sol";
import {BondStorage} from "./BondStorage.sol";

/// @title BondTerms
/// @notice The bond's terms, fixed at initialisation, readable with ERC-7092-style getters, and
/// amendable by the admin only before the first unit is issued.
abstract contract BondTerms is BondStorage, IBondTerms, AccessControlUpgradeable {
    /// @notice A term is invalid.
    /// @param field the offending term
    error InvalidTerms(string field);
    /// @notice Terms can no longer change: units have been issued.
    error TermsFixedAfterIssue();

    /// @notice Emitted when the terms are set (at initialisation) or amended (before issue).
    /// @param terms the terms now in force
    /// @param by who set them
    event TermsSet(Terms terms, address indexed by);

    string internal _code;
    string private _isin;
    string private _name;
    string private _symbol;
    string private _issuerName;
    string private _currencyCode;
    // one slot: 20 + 5 + 4 + 1 + 1 bytes
    address private _currency;
    uint40 private _issueDate;
    uint32 private _couponRate;
    uint8 private _decimals;
    uint8 private _couponFrequency;
    // one slot
    uint128 internal _denomination;
    uint32 private _redemptionPrice;

    /// @inheritdoc IBondTerms
    function bondCode() external view returns (string memory) {
        return _code;
    }

    /// @inheritdoc IBondTerms
    function isin() external view returns (string memory) {
        return _isin;
    }

    /// @notice The bond's name (ERC-20).
    /// @return the name
    function name() external view returns (string memory) {
        return _name;
    }

    /// @notice The bond's symbol (ERC-20).
    /// @return the symbol
    function symbol() external view returns (string memory) {
        return _symbol;
    }

    /// @notice Decimals of a token unit (ERC-20): one unit is 10^-decimals of the currency's face.
    /// @return the decimals
    function decimals() external view returns (uint8) {
        return _decimals;
    }

    /// @inheritdoc IBondTerms
    function issuer() external view returns (string memory) {
        return _issuerName;
    }

    /// @inheritdoc IBondTerms
    function currency() external view returns (address) {
        return _currency;
    }

    /// @inheritdoc IBondTerms
    function currencyCode() external view returns (string memory) {
        return _currencyCode;
    }

    /// @inheritdoc IBondTerms
    function denomination() external view returns (uint256) {
        return _denomination;
    }

    /// @inheritdoc IBondTerms
    function issueVolume() external view returns (uint256) {
        return _issueVolumeUnits;
    }

    /// @inheritdoc IBondTerms
    function couponRate() external view returns (uint256) {
        return _couponRate;
    }

    /// @inheritdoc IBondTerms
    function couponFrequency() external view returns (uint256) {
        return _couponFrequency;
    }

    /// @inheritdoc IBondTerms
    function issueDate() external view returns (uint256) {
        return _issueDate;
    }

    /// @inheritdoc IBondTerms
    function maturityDate() external view returns (uint256) {
        return _maturity(_state);
    }

    /// @inheritdoc IBondTerms
    function redemptionPrice() external view returns (uint256) {
        return _redemptionPrice;
    }

    /// @inheritdoc IBondTerms
    function terms() external view returns (Terms memory t) {
        t.code = _code;
        t.isin = _isin;
        t.name = _name;
        t.symbol = _symbol;
        t.issuerName = _issuerName;
        t.currencyCode = _currencyCode;
        t.currency = _currency;
        t.decimals = _decimals;
        t.denomination = _denomination;
        t.issueVolume = uint128(_issueVolumeUnits);
        t.issueDate = _issueDate;
        t.maturityDate = uint40(_maturity(_state));
        t.couponRate = _couponRate;
        t.couponFrequency = _couponFrequency;
        t.redemptionPrice = _redemptionPrice;
    }

    function _setTerms(Terms calldata t) internal {
        if (bytes(t.code).length == 0) revert InvalidTerms("code");
        if (bytes(t.name).length == 0) revert InvalidTerms("name");
        if (bytes(t.symbol).length == 0) revert InvalidTerms("symbol");
        if (t.decimals > 18) revert InvalidTerms("decimals");
        if (t.denomination == 0) revert InvalidTerms("denomination");
        if (t.issueVolume == 0 || t.issueVolume > MAX_UNITS || t.issueVolume % t.denomination != 0) {
            revert InvalidTerms("issueVolume");
        }
        if (t.maturityDate <= t.issueDate) revert InvalidTerms("maturityDate");
        uint8 f = t.couponFrequency;
        if (f != 0 && f != 1 && f != 2 && f != 4 && f != 12) revert InvalidTerms("couponFrequency");
        if (t.redemptionPrice == 0) revert InvalidTerms("redemptionPrice");
        _code = t.code;
        _isin = t.isin;
        _name = t.name;
        _symbol = t.symbol;
        _issuerName = t.issuerName;
        _currencyCode = t.currencyCode;
        _currency = t.currency;
        _issueDate = t.issueDate;
        _couponRate = t.couponRate;
        _decimals = t.decimals;
        _couponFrequency = f;
        _denomination = t.denomination;
        _issueVolumeUnits = t.issueVolume;
        _redemptionPrice = t.redemptionPrice;
        // (re)setting the terms drops a payment schedule set before: it must fit the new terms
        for (uint256 p = uint8(_payTerms); p != 0; --p) {
            delete _periods[p - 1];
        }
        _payTerms = 0;
        _payConfig &= ~uint256(type(uint160).max); // the tax rates stay
        uint256 state = _state
            & ~((uint256(type(uint40).max) << MATURITY_SHIFT) | STATE_SCHEDULED | STATE_FINAL_DUE | STATE_COUPONS
                | (type(uint256).max << RECORDED_SHIFT));
        // a bond with a coupon mints nothing until its payment schedule is on chain
        if (t.couponRate != 0 && f != 0) state |= STATE_COUPONS;
        // without a schedule the next record time is the maturity (see {BondLedger-_tryFastTransfer})
        _state = state | (uint256(t.maturityDate) << MATURITY_SHIFT) | (uint256(t.maturityDate) << NEXT_RECORD_SHIFT);
        emit TermsSet(t, msg.sender);
    }
}
