// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {InvestorRecord} from "./InvestorRecord.sol";

/// @title InvestorRegistry
/// @notice The platform's register of verified investor wallets (KYC by a registrar), shared by
/// every bond of the platform. One wallet, one packed storage word.
/// @dev Roles: DEFAULT_ADMIN_ROLE manages registrars; REGISTRAR_ROLE registers, updates and
/// removes wallets. Bonds read records through {recordsOf} (one call, two storage reads).
///
/// The registry is deployed as part of the platform contract {BondToken}, at the same address as
/// the implementation every bond clone delegates to: a transfer then finds the registry's account
/// already warm (EIP-2929) and pays 100 gas instead of 2,600 to reach it. Registry functions work
/// only at that address, on its own storage ({_isRegistryContext}); in a bond clone they revert.
abstract contract InvestorRegistry is AccessControlUpgradeable, IInvestorRegistry {
    using InvestorRecord for uint256;

    /// @notice Role of the KYC agents who maintain the register.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    /// @notice The investor id is zero (ids start at 1).
    /// @param wallet the wallet being registered
    error InvalidInvestorId(address wallet);
    /// @notice The wallet is the zero address.
    error InvalidWallet();
    /// @notice The wallet is not registered.
    /// @param wallet the wallet
    error WalletNotRegistered(address wallet);
    /// @notice Array arguments of a batch call differ in length.
    /// @param wallets number of wallets
    /// @param records number of records
    error RecordsLengthMismatch(uint256 wallets, uint256 records);

    /// @notice A registry function was called on a bond rather than on the registry.
    error NotTheRegistry();

    /// @dev ERC-7201 namespace of the wallet -> record mapping:
    /// keccak256(abi.encode(uint256(keccak256("munibond.storage.InvestorRegistry")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant REGISTRY_STORAGE = 0x5aa66eabbf6aea0a3db2ffa0857c28b0de78d2c942dcb7c29f457b0e42654a00;

    modifier onlyRegistryContext() {
        if (!_isRegistryContext()) revert NotTheRegistry();
        _;
    }

    /// @dev true when running on the registry's own storage (not in a bond clone)
    function _isRegistryContext() internal view virtual returns (bool);

    function _initRegistry(address admin, address registrar) internal {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (registrar != address(0)) _grantRole(REGISTRAR_ROLE, registrar);
    }

    /// @dev Answers a bond's raw record query: the calldata is two 32-byte words, the wallets (with
    /// no selector: it begins with four zero bytes, which no function has), and the answer is their
    /// two packed records. Bonds ask it on every transfer, so it skips the ABI decoding and
    /// modifiers of {recordsOf}, which cost more than its logic. Call it only from a fallback.
    function _answerRecordsQuery() internal view {
        assembly ("memory-safe") {
            mstore(0x20, REGISTRY_STORAGE)
            mstore(0, calldataload(0))
            let ra := sload(keccak256(0, 0x40))
            mstore(0, calldataload(0x20))
            let rb := sload(keccak256(0, 0x40))
            mstore(0, ra)
            mstore(0x20, rb)
            // slither-disable-next-line incorrect-return -- intended: the fallback answers with raw return data
            return(0, 0x40)
        }
    }

    /// @dev The same query for one wallet (one word in, one out), which mints ask.
    function _answerRecordQuery() internal view {
        assembly ("memory-safe") {
            mstore(0x20, REGISTRY_STORAGE)
            mstore(0, calldataload(0))
            mstore(0, sload(keccak256(0, 0x40)))
            // slither-disable-next-line incorrect-return -- intended: the fallback answers with raw return data
            return(0, 0x20)
        }
    }

    function _recordsMap() private pure returns (mapping(address => uint256) storage m) {
        assembly ("memory-safe") {
            m.slot := REGISTRY_STORAGE
        }
    }

    /// @notice Registers `wallet`, or replaces its record.
    /// @param wallet the investor's wallet
    /// @param investor the investor's attributes (investorId must be non-zero)
    function registerWallet(address wallet, Investor calldata investor) external onlyRegistryContext onlyRole(REGISTRAR_ROLE) {
        _register(wallet, investor);
    }

    /// @notice Registers or updates many wallets in one call (the caller chooses the batch size).
    /// @param wallets the wallets
    /// @param investors their records, in the same order
    function registerWallets(address[] calldata wallets, Investor[] calldata investors)
        external
        onlyRegistryContext onlyRole(REGISTRAR_ROLE)
    {
        if (wallets.length != investors.length) revert RecordsLengthMismatch(wallets.length, investors.length);
        for (uint256 i; i < wallets.length; ++i) {
            _register(wallets[i], investors[i]);
        }
    }

    /// @notice Sets or clears the suspended flag of a registered wallet.
    /// @param wallet the wallet
    /// @param suspended_ true to suspend, false to lift the suspension
    function setSuspended(address wallet, bool suspended_) external onlyRegistryContext onlyRole(REGISTRAR_ROLE) {
        mapping(address => uint256) storage records = _recordsMap();
        uint256 r = records[wallet];
        if (r.investorId() == 0) revert WalletNotRegistered(wallet);
        uint256 flag = InvestorRecord.FLAG_SUSPENDED << InvestorRecord.FLAGS_SHIFT;
        r = suspended_ ? r | flag : r & ~flag;
        records[wallet] = r;
        emit WalletRegistered(wallet, r.investorId(), r, msg.sender);
    }

    /// @notice Extends or shortens the KYC validity of a registered wallet.
    /// @param wallet the wallet
    /// @param kycValidUntil new unix time until which KYC is valid
    function setKycValidUntil(address wallet, uint40 kycValidUntil) external onlyRegistryContext onlyRole(REGISTRAR_ROLE) {
        uint256 r = _recordsMap()[wallet];
        if (r.investorId() == 0) revert WalletNotRegistered(wallet);
        r = (r & ~(uint256(type(uint40).max) << InvestorRecord.KYC_SHIFT))
            | (uint256(kycValidUntil) << InvestorRecord.KYC_SHIFT);
        _recordsMap()[wallet] = r;
        emit WalletRegistered(wallet, r.investorId(), r, msg.sender);
    }

    /// @notice Removes `wallet` from the register.
    /// @param wallet the wallet
    function removeWallet(address wallet) external onlyRegistryContext onlyRole(REGISTRAR_ROLE) {
        _remove(wallet);
    }

    /// @notice Removes many wallets in one call.
    /// @param wallets the wallets
    function removeWallets(address[] calldata wallets) external onlyRegistryContext onlyRole(REGISTRAR_ROLE) {
        for (uint256 i; i < wallets.length; ++i) {
            _remove(wallets[i]);
        }
    }

    /// @inheritdoc IInvestorRegistry
    function recordOf(address wallet) external view onlyRegistryContext returns (uint256) {
        return _recordsMap()[wallet];
    }

    /// @inheritdoc IInvestorRegistry
    function recordsOf(address a, address b) external view onlyRegistryContext returns (uint256, uint256) {
        return (_recordsMap()[a], _recordsMap()[b]);
    }

    /// @inheritdoc IInvestorRegistry
    function investorOf(address wallet) external view onlyRegistryContext returns (Investor memory) {
        return InvestorRecord.unpack(_recordsMap()[wallet]);
    }

    /// @inheritdoc IInvestorRegistry
    function isVerified(address wallet) external view onlyRegistryContext returns (bool) {
        uint256 r = _recordsMap()[wallet];
        return r.investorId() != 0 && !r.suspended() && r.kycValidUntil() > block.timestamp;
    }

    /// @notice Decodes a packed record (as carried by {WalletRegistered}).
    /// @param record the packed record
    /// @return investor the decoded record
    function unpack(uint256 record) external pure returns (Investor memory investor) {
        return InvestorRecord.unpack(record);
    }

    function _register(address wallet, Investor calldata investor) private {
        if (wallet == address(0)) revert InvalidWallet();
        if (investor.investorId == 0) revert InvalidInvestorId(wallet);
        uint256 r = InvestorRecord.pack(investor);
        _recordsMap()[wallet] = r;
        emit WalletRegistered(wallet, investor.investorId, r, msg.sender);
    }

    function _remove(address wallet) private {
        uint256 r = _recordsMap()[wallet];
        if (r.investorId() == 0) revert WalletNotRegistered(wallet);
        delete _recordsMap()[wallet];
        emit WalletRemoved(wallet, r.investorId(), msg.sender);
    }
}
