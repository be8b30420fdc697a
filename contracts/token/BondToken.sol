// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IBondTerms} from "../interfaces/IBondTerms.sol";
import {IERC1404} from "../interfaces/IERC1404.sol";
import {IERC1643} from "../interfaces/IERC1643.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {InvestorRegistry} from "../registry/InvestorRegistry.sol";
import {BondERC20} from "./BondERC20.sol";
import {BondHook} from "./BondHook.sol";
import {BondLedger} from "./BondLedger.sol";
import {CouponPayments} from "./CouponPayments.sol";
import {RestrictionCodes as RC} from "./RestrictionCodes.sol";
import {TwoStepAdmin} from "./TwoStepAdmin.sol";

/// @title BondToken
/// @notice The platform contract: the implementation every bond clone delegates to, and, on its
/// own storage, the platform's {InvestorRegistry}.
///
/// In a bond clone it is a municipal bond as an ERC-20 security token: fractional units down to
/// the trading unit, every transfer and mint checked against the registry and the bond's rules in
/// one hook ({BondLedger}), ERC-1404 pre-checks. Everything else a bond does (initialisation, terms,
/// rules, transfer-agent operations, documents) is in {BondServicing}, reached through the fallback.
///
/// Why one address for the registry and the implementation: a clone's delegatecall has already
/// paid for this address, so the transfer check's registry call finds it warm (EIP-2929) and costs
/// 100 gas instead of 2,600. Registry functions run only here on the registry's storage; bond
/// functions run only in clones.
contract BondToken is InvestorRegistry, TwoStepAdmin, BondERC20, CouponPayments, IERC1404 {
    /// @notice The servicing half of every bond.
    address public immutable servicing;
    address private immutable _self;

    /// @notice A bond function was called on the platform contract itself rather than on a bond.
    error NotABond();

    /// @param admin holder of the registry's DEFAULT_ADMIN_ROLE
    /// @param registrar first holder of REGISTRAR_ROLE (zero to grant later)
    /// @param servicing_ the deployed {BondServicing}
    constructor(address admin, address registrar, address servicing_) {
        _self = address(this);
        servicing = servicing_;
        _initRegistry(admin, registrar);
        _disableInitializers();
    }

    /// @notice Mints (allots) `amount` units to an eligible investor.
    /// @param to the investor's wallet
    /// @param amount units to mint
    function mint(address to, uint256 amount) external onlyBond onlyRole(ROLE_ISSUER) {
        _update(address(0), to, amount, MODE_MINT);
    }

    /// @notice Mints to many investors (the caller chooses the batch size); all or nothing.
    /// @param to the wallets
    /// @param amounts units for each
    function mintBatch(address[] calldata to, uint256[] calldata amounts) external onlyBond onlyRole(ROLE_ISSUER) {
        if (to.length != amounts.length) revert LengthMismatch(to.length, amounts.length);
        for (uint256 i; i < to.length; ++i) {
            _update(address(0), to[i], amounts[i], MODE_MINT);
        }
    }

    /// @notice Transfers from the caller to many recipients, each under the full rules; all or nothing.
    /// @param to the recipients
    /// @param amounts units for each
    function batchTransfer(address[] calldata to, uint256[] calldata amounts) external {
        if (to.length != amounts.length) revert LengthMismatch(to.length, amounts.length);
        for (uint256 i; i < to.length; ++i) {
            _update(msg.sender, to[i], amounts[i], MODE_TRANSFER);
        }
    }

    /// @notice ERC-1404: the restriction code for a transfer of `value` from `from` to `to` (0 =
    /// allowed; `from` zero for a mint). The message for a code is `messageForTransferRestriction`.
    /// @param from sender (the zero address for a mint)
    /// @param to recipient
    /// @param value amount in token units
    /// @return the restriction code
    function detectTransferRestriction(address from, address to, uint256 value) external view returns (uint8) {
        // slither-disable-next-line uninitialized-local -- zero is the intended initial value
        Ctx memory c;
        c.from = from;
        c.to = to;
        return from == address(0) ? _checkMint(to, value, c) : _checkTransfer(from, to, value, c);
    }

    /// @inheritdoc IERC1404
    function messageForTransferRestriction(uint8 restrictionCode) external pure returns (string memory) {
        return RC.message(restrictionCode);
    }

    /// @notice Number of holders (wallets, or investors when the rules count per investor).
    /// @return the holder count
    function holderCount() external view returns (uint256) {
        return _holders(_state);
    }

    /// @notice ERC-165: ERC-20, ERC-1404, ERC-1643, bond terms, the registry, AccessControl.
    /// @param interfaceId the interface
    /// @return whether supported
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        if (address(this) == _self) {
            return interfaceId == type(IInvestorRegistry).interfaceId || super.supportsInterface(interfaceId);
        }
        return interfaceId == type(IERC20).interfaceId || interfaceId == type(IERC20Metadata).interfaceId
            || interfaceId == type(IERC1404).interfaceId || interfaceId == type(IERC1643).interfaceId
            || interfaceId == type(IBondTerms).interfaceId || super.supportsInterface(interfaceId);
    }

    /// @notice Everything else a bond does is in {BondServicing}: delegate to it (bonds only).
    /// At the platform's own address the fallback answers bonds' raw registry queries instead.
    // solhint-disable-next-line no-complex-fallback
    fallback() external {
        if (address(this) == _self) {
            if (msg.data.length == 64) _answerRecordsQuery();
            if (msg.data.length == 32) _answerRecordQuery();
            revert NotABond();
        }
        _delegate(servicing);
    }

    /// @inheritdoc TwoStepAdmin
    function grantRole(bytes32 role, address account) public override(AccessControlUpgradeable, TwoStepAdmin) {
        super.grantRole(role, account);
    }

    /// @inheritdoc TwoStepAdmin
    function revokeRole(bytes32 role, address account) public override(AccessControlUpgradeable, TwoStepAdmin) {
        super.revokeRole(role, account);
    }

    /// @inheritdoc TwoStepAdmin
    function renounceRole(bytes32 role, address callerConfirmation)
        public
        override(AccessControlUpgradeable, TwoStepAdmin)
    {
        super.renounceRole(role, callerConfirmation);
    }

    /// @dev The hook, with its lean common case first (see {BondLedger-_tryFastTransfer}): only
    /// this half of the bond makes plain transfers.
    function _update(address from, address to, uint256 value, uint8 mode)
        internal
        override(BondHook, BondLedger)
    {
        if (mode == MODE_TRANSFER && _tryFastTransfer(from, to, value)) return;
        super._update(from, to, value, mode);
    }

    modifier onlyBond() {
        if (address(this) == _self) revert NotABond();
        _;
    }

    function _isRegistryContext() internal view override returns (bool) {
        return address(this) == _self;
    }

    function _registry() internal view override returns (IInvestorRegistry) {
        return IInvestorRegistry(_self);
    }
}
