// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IBondTerms
/// @notice A bond's terms, readable on-chain in the spirit of ERC-7092, and the structures used to
/// create a bond.
interface IBondTerms {
    /// @notice Economic and descriptive terms, fixed at initialisation (amendable only before issue).
    /// @param code the bond code (platform-unique)
    /// @param isin ISIN, or empty
    /// @param name ERC-20 name
    /// @param symbol ERC-20 symbol
    /// @param issuerName the issuing local government
    /// @param currencyCode ISO 4217 currency of face value and payments ("JPY")
    /// @param currency the settlement token on this chain (zero until set)
    /// @param decimals ERC-20 decimals: one token unit is 10^-decimals of the currency's face
    /// @param denomination face value of one bond, in token units
    /// @param issueVolume maximum total face that may be issued, in token units
    /// @param issueDate unix time of issue
    /// @param maturityDate unix time of maturity (transfers stop then)
    /// @param couponRate annual coupon rate in millionths (1e-6; 0.450% = 4500)
    /// @param couponFrequency coupons per year (0 = zero coupon)
    /// @param redemptionPrice redemption price in basis points of face (10000 = par)
    struct Terms {
        string code;
        string isin;
        string name;
        string symbol;
        string issuerName;
        string currencyCode;
        address currency;
        uint8 decimals;
        uint128 denomination;
        uint128 issueVolume;
        uint40 issueDate;
        uint40 maturityDate;
        uint32 couponRate;
        uint8 couponFrequency;
        uint32 redemptionPrice;
    }

    /// @notice Transfer rules of one bond (eligibility shared by many bonds lives in the registry).
    /// @param tradingUnit smallest transferable increment, in token units (>= 1)
    /// @param maxBalance cap on a holder's balance in token units (0 = none); per investor when perInvestor
    /// @param allowedClasses bitmap of allowed investor classes, bit i = class i (0 = any class)
    /// @param lockupUntil unix time before which transfers between investors are refused (0 = none)
    /// @param maxHolders cap on the number of holders (0 = none); counts investors when perInvestor
    /// @param countryMode 0 any country, 1 allow list, 2 deny list
    /// @param perInvestor apply maxBalance and maxHolders per investor (all wallets) rather than per wallet
    /// @param countries bitmap of ISO 3166-1 numeric codes (bit c of the 1024-bit map) for the country rule
    /// @param regions residents-only rule: up to 8 JIS codes (6 digits), or prefectures (1-47); 0 = unused
    struct Rules {
        uint128 tradingUnit;
        uint128 maxBalance;
        uint32 allowedClasses;
        uint40 lockupUntil;
        uint32 maxHolders;
        uint8 countryMode;
        bool perInvestor;
        uint256[4] countries;
        uint32[8] regions;
    }

    /// @notice The holders of the bond's roles at creation.
    /// @param admin DEFAULT_ADMIN_ROLE: grants roles, amends terms before issue, amends rules
    /// @param issuer ISSUER_ROLE: mints (allots), manages documents
    /// @param transferAgent TRANSFER_AGENT_ROLE: freezes, forced transfers, wallet recovery
    /// @param pauser PAUSER_ROLE: pauses and unpauses
    struct Roles {
        address admin;
        address issuer;
        address transferAgent;
        address pauser;
    }

    /// @notice The bond code.
    /// @return the code
    function bondCode() external view returns (string memory);

    /// @notice The ISIN (empty when none).
    /// @return the ISIN
    function isin() external view returns (string memory);

    /// @notice The issuing local government.
    /// @return the issuer's name
    function issuer() external view returns (string memory);

    /// @notice The settlement token (ERC-7092 `currency`).
    /// @return the settlement token address (zero until set)
    function currency() external view returns (address);

    /// @notice The ISO 4217 currency code of face value.
    /// @return the currency code
    function currencyCode() external view returns (string memory);

    /// @notice Face value of one bond in token units.
    /// @return the denomination
    function denomination() external view returns (uint256);

    /// @notice Maximum total face that may be issued, in token units.
    /// @return the issue volume
    function issueVolume() external view returns (uint256);

    /// @notice Annual coupon rate in millionths (0.450% = 4500).
    /// @return the coupon rate
    function couponRate() external view returns (uint256);

    /// @notice Coupons per year (0 for a zero-coupon bond).
    /// @return the frequency
    function couponFrequency() external view returns (uint256);

    /// @notice Unix time of issue.
    /// @return the issue date
    function issueDate() external view returns (uint256);

    /// @notice Unix time of maturity.
    /// @return the maturity date
    function maturityDate() external view returns (uint256);

    /// @notice Redemption price in basis points of face (10000 = par).
    /// @return the redemption price
    function redemptionPrice() external view returns (uint256);

    /// @notice All terms at once.
    /// @return the terms
    function terms() external view returns (Terms memory);
}
