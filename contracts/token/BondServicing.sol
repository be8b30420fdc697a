// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {AgentOperations} from "./AgentOperations.sol";
import {BondCoupons} from "./BondCoupons.sol";
import {BondDocuments} from "./BondDocuments.sol";
import {BondTerms} from "./BondTerms.sol";
import {RulesCodec} from "./RulesCodec.sol";

/// @title BondServicing
/// @notice The servicing half of every bond: initialisation, terms, rules, transfer-agent
/// operations, documents and the less frequent views. A bond clone reaches it through
/// {BondToken}'s fallback (a second delegatecall), so it runs on the clone's storage; keeping it out
/// of {BondToken} keeps the transfer path's contract small. Payment administration (schedule,
/// funding, tax, call) is one step further, in {BondCoupons}, reached through this fallback.
contract BondServicing is BondTerms, AgentOperations, BondDocuments {
    /// @notice The payments module of every bond (schedule, funding, tax, call), created with
    /// this contract and reached through its fallback on the clone's storage.
    address public immutable coupons;

    /// @notice Emitted once, when the clone is initialised.
    /// @param registry the investor registry the bond reads
    /// @param rules the transfer rules the bond was created with
    event BondInitialized(address indexed registry, Rules rules);

    /// @notice Emitted when the admin amends the transfer rules.
    /// @param rules the new rules
    /// @param admin who amended them
    event RulesAmended(Rules rules, address indexed admin);

    /// @notice Emitted when a bond that never issued is retired (closed for good).
    /// @param admin who retired it
    event BondRetired(address indexed admin);

    /// @notice A role holder given at initialisation is the zero address.
    /// @param role the role
    error InvalidRoleHolder(bytes32 role);

    constructor() {
        coupons = address(new BondCoupons());
        _disableInitializers();
    }

    /// @notice Everything else a bond does about payments is in {BondCoupons}: delegate to it.
    // solhint-disable-next-line no-complex-fallback
    fallback() external {
        _delegate(coupons);
    }

    /// @notice Role that mints (allots) and manages documents.
    /// @return the role id, keccak256("ISSUER_ROLE")
    // solhint-disable-next-line func-name-mixedcase
    function ISSUER_ROLE() external pure returns (bytes32) {
        return ROLE_ISSUER;
    }

    /// @notice Role of the transfer agent (freezes, forced transfers, recovery).
    /// @return the role id, keccak256("TRANSFER_AGENT_ROLE")
    // solhint-disable-next-line func-name-mixedcase
    function TRANSFER_AGENT_ROLE() external pure returns (bytes32) {
        return ROLE_TRANSFER_AGENT;
    }

    /// @notice Role that may pause and unpause transfers and mints.
    /// @return the role id, keccak256("PAUSER_ROLE")
    // solhint-disable-next-line func-name-mixedcase
    function PAUSER_ROLE() external pure returns (bytes32) {
        return ROLE_PAUSER;
    }

    /// @notice Role of the paying agent: funds periods, pays holders in batches, remits tax.
    /// @return the role id, keccak256("PAYING_AGENT_ROLE")
    // solhint-disable-next-line func-name-mixedcase
    function PAYING_AGENT_ROLE() external pure returns (bytes32) {
        return ROLE_PAYING_AGENT;
    }

    /// @notice Initialises a clone: terms and roles; the rules are the clone's immutable arguments
    /// and are checked here.
    /// @param t the terms
    /// @param roles the first holder of each role
    function initialize(Terms calldata t, Roles calldata roles) external initializer {
        if (roles.admin == address(0)) revert InvalidRoleHolder(DEFAULT_ADMIN_ROLE);
        if (roles.issuer == address(0)) revert InvalidRoleHolder(ROLE_ISSUER);
        if (roles.transferAgent == address(0)) revert InvalidRoleHolder(ROLE_TRANSFER_AGENT);
        if (roles.pauser == address(0)) revert InvalidRoleHolder(ROLE_PAUSER);
        // the admin role has this one holder and moves only by a delayed hand-over ({TwoStepAdmin})
        _grantRole(DEFAULT_ADMIN_ROLE, roles.admin);
        _grantRole(ROLE_ISSUER, roles.issuer);
        _grantRole(ROLE_TRANSFER_AGENT, roles.transferAgent);
        _grantRole(ROLE_PAUSER, roles.pauser);
        _setTerms(t);
        Rules memory r = rules();
        if (r.tradingUnit == 0 || t.denomination % r.tradingUnit != 0) {
            revert RulesCodec.InvalidRules("denomination must be a multiple of tradingUnit");
        }
        emit BondInitialized(address(_registry()), r);
    }

    /// @notice Replaces the terms; only before the first unit is issued. The bond code, by which
    /// the factory knows the bond, cannot change.
    /// @param t the new terms
    function amendTerms(Terms calldata t) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 state = _state;
        if (state & STATE_ISSUED != 0) revert TermsFixedAfterIssue();
        if (keccak256(bytes(t.code)) != keccak256(bytes(_code))) revert InvalidTerms("code");
        if (t.denomination % uint128(_ruleWord(state, 0)) != 0) {
            revert RulesCodec.InvalidRules("denomination must be a multiple of tradingUnit");
        }
        _setTerms(t);
    }

    /// @notice The transfer rules in force.
    /// @return r the rules
    function rules() public view returns (Rules memory r) {
        uint256 state = _state;
        uint256 w0 = _ruleWord(state, 0);
        uint256 w1 = _ruleWord(state, 1);
        r.tradingUnit = uint128(w0);
        r.maxBalance = uint128(w0 >> 128);
        r.allowedClasses = uint32(w1);
        r.lockupUntil = uint40(w1 >> LOCKUP_SHIFT);
        r.maxHolders = uint32(w1 >> MAX_HOLDERS_SHIFT);
        r.countryMode = uint8(w1 >> COUNTRY_MODE_SHIFT);
        r.perInvestor = uint8(w1 >> PER_INVESTOR_SHIFT) != 0;
        for (uint256 i; i < 4; ++i) {
            r.countries[i] = _ruleWord(state, 2 + i);
        }
        uint256 w6 = _ruleWord(state, 6);
        for (uint256 i; i < 8; ++i) {
            r.regions[i] = uint32(w6 >> (32 * i));
        }
    }

    /// @notice Replaces the transfer rules (for example to follow a regulatory change). The
    /// per-investor setting cannot change once units are issued.
    /// @param r the new rules
    function amendRules(Rules calldata r) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256[RULE_WORDS] memory words = RulesCodec.pack(r);
        if (_denomination % r.tradingUnit != 0) {
            revert RulesCodec.InvalidRules("denomination must be a multiple of tradingUnit");
        }
        uint256 state = _state;
        if (state & STATE_ISSUED != 0 && (uint8(words[1] >> PER_INVESTOR_SHIFT) != uint8(_ruleWord(state, 1) >> PER_INVESTOR_SHIFT))) {
            revert RulesCodec.InvalidRules("perInvestor cannot change after issue");
        }
        for (uint256 i; i < RULE_WORDS; ++i) {
            _amendedRules[i] = words[i];
        }
        _state = state | STATE_RULES_AMENDED;
        emit RulesAmended(r, msg.sender);
    }

    /// @notice Retires a bond that never issued a unit (admin): it is closed for good, every
    /// transfer and mint refused with code 2, so that the factory can free its code for a
    /// corrected bond ({BondFactory-releaseCode}). For a deployment that stopped half way and
    /// whose term sheet must change in a way the terms cannot (the transfer rules).
    function retire() external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 state = _state;
        if (state & STATE_ISSUED != 0) revert TermsFixedAfterIssue();
        if (state & STATE_CLOSED != 0) revert AlreadyInState();
        _state = state | STATE_CLOSED;
        emit BondRetired(msg.sender);
    }

    /// @notice True once the bond is closed: every unit redeemed, or retired before issue.
    /// @return whether closed
    function closed() external view returns (bool) {
        return _state & STATE_CLOSED != 0;
    }

    /// @notice True once the first unit has been issued (terms are fixed from then on).
    /// @return whether issued
    function issued() external view returns (bool) {
        return _state & STATE_ISSUED != 0;
    }

    /// @notice Units held by all wallets of `investorId` (kept only when the rules count per investor).
    /// @param investorId the investor
    /// @return units held
    function investorBalance(uint64 investorId) external view returns (uint256) {
        return _investorUnits[investorId];
    }

    /// @notice The investor registry the bond reads (the implementation's address).
    /// @return the registry
    function registry() external view returns (address) {
        return address(_registry());
    }

    /// @dev the registry lives at the implementation's address, which an EIP-1167 clone carries in
    /// its code at bytes 10-29
    function _registry() internal view override returns (IInvestorRegistry r) {
        assembly ("memory-safe") {
            mstore(0, 0)
            extcodecopy(address(), 12, 10, 20)
            r := mload(0)
        }
    }
}
