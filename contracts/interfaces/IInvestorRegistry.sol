// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IInvestorRegistry
/// @notice The platform's register of verified investor wallets, shared by every bond.
/// @dev Each wallet maps to one packed 256-bit record (see {InvestorRecord} for the layout), so a
/// bond can read both parties of a transfer with one call and two storage reads.
interface IInvestorRegistry {
    /// @notice The attributes of one registered wallet.
    /// @param investorId the investor the wallet belongs to (non-zero; several wallets may share it)
    /// @param country ISO 3166-1 numeric country code of the investor (392 = Japan)
    /// @param investorClass investor class (1 retail, 2 corporate, 3 professional, 4 qualified institutional, 5 public entity)
    /// @param taxCategory tax category for withholding (0 exempt, 1 individual, 2 corporate, 3 non-resident)
    /// @param region JIS X 0402 local-government code of the residence (6 digits incl. check digit; 0 = none)
    /// @param kycValidUntil unix time until which the KYC check is valid
    /// @param flags bit 0: suspended (the registrar stopped the investor trading)
    struct Investor {
        uint64 investorId;
        uint16 country;
        uint8 investorClass;
        uint8 taxCategory;
        uint32 region;
        uint40 kycValidUntil;
        uint16 flags;
    }

    /// @notice Emitted when a wallet is registered or its record changes.
    /// @param wallet the wallet
    /// @param investorId the investor it belongs to
    /// @param record the packed record now stored (decode with {unpack})
    /// @param registrar the account that made the change
    event WalletRegistered(address indexed wallet, uint64 indexed investorId, uint256 record, address indexed registrar);

    /// @notice Emitted when a wallet is removed from the register.
    /// @param wallet the wallet
    /// @param investorId the investor it belonged to
    /// @param registrar the account that removed it
    event WalletRemoved(address indexed wallet, uint64 indexed investorId, address indexed registrar);

    /// @notice The packed record of `wallet` (0 when not registered).
    /// @param wallet the wallet to look up
    /// @return record the packed record
    function recordOf(address wallet) external view returns (uint256 record);

    /// @notice The packed records of two wallets in one call (the transfer check's only registry read).
    /// @param a first wallet (sender)
    /// @param b second wallet (recipient)
    /// @return ra packed record of `a`
    /// @return rb packed record of `b`
    function recordsOf(address a, address b) external view returns (uint256 ra, uint256 rb);

    /// @notice The decoded record of `wallet` (all zero when not registered).
    /// @param wallet the wallet to look up
    /// @return investor the record
    function investorOf(address wallet) external view returns (Investor memory investor);

    /// @notice True when `wallet` is registered, not suspended and its KYC has not expired.
    /// @param wallet the wallet to check
    /// @return verified whether the wallet is verified now
    function isVerified(address wallet) external view returns (bool verified);
}
