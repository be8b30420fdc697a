// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IBondTerms} from "../interfaces/IBondTerms.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {BondServicing} from "../token/BondServicing.sol";
import {RulesCodec} from "../token/RulesCodec.sol";

/// @title BondFactory
/// @notice Creates bonds as EIP-1167 clones of one {BondToken} implementation, with the bond's
/// transfer rules as the clone's immutable arguments, initialised in the same transaction. Its
/// admin role moves only by a two-step hand-over with a delay (OpenZeppelin's
/// AccessControlDefaultAdminRules), like the platform's and every bond's.
contract BondFactory is AccessControlDefaultAdminRules {
    /// @notice Role that may create bonds (the platform operator or an issuer's finance office).
    bytes32 public constant CREATOR_ROLE = keccak256("CREATOR_ROLE");
    /// @notice The admin hand-over delay the factory starts with (the admin may change it).
    uint48 public constant INITIAL_ADMIN_DELAY = 3 days;

    /// @notice The bond implementation every clone delegates to.
    address public immutable implementation;
    /// @notice The platform's investor registry (the implementation's).
    IInvestorRegistry public immutable registry;

    mapping(bytes32 codeHash => address bond) private _bonds;

    /// @notice Emitted when a bond is created.
    /// @param bond the new bond's address
    /// @param code the bond code
    /// @param isin the ISIN (may be empty)
    /// @param creator who created it
    event BondCreated(address indexed bond, string code, string isin, address indexed creator);

    /// @notice Emitted when the code of a bond retired before issue is freed for a new bond.
    /// @param bond the retired bond
    /// @param code the bond code
    /// @param creator who freed it
    event BondCodeReleased(address indexed bond, string code, address indexed creator);

    /// @notice No bond has this code.
    /// @param code the bond code
    error NoSuchBond(string code);
    /// @notice Only the code of a bond retired before issue can be freed.
    /// @param code the bond code
    /// @param bond the bond
    error BondNotRetired(string code, address bond);

    /// @notice A bond with this code already exists.
    /// @param code the bond code
    /// @param bond the existing bond
    error BondCodeTaken(string code, address bond);
    /// @notice The implementation has no code.
    /// @param implementation the address given
    error InvalidImplementation(address implementation);

    /// @param admin holder of DEFAULT_ADMIN_ROLE
    /// @param creator first holder of CREATOR_ROLE (zero to grant later)
    /// @param implementation_ the deployed BondToken (bond implementation and investor registry)
    constructor(address admin, address creator, address implementation_)
        AccessControlDefaultAdminRules(INITIAL_ADMIN_DELAY, admin)
    {
        if (implementation_.code.length == 0) revert InvalidImplementation(implementation_);
        implementation = implementation_;
        // the registry lives at the implementation's address (see BondToken)
        registry = IInvestorRegistry(implementation_);
        if (creator != address(0)) _grantRole(CREATOR_ROLE, creator);
    }

    /// @notice Creates and initialises a bond.
    /// @param terms the bond's terms
    /// @param rules the bond's transfer rules (become the clone's immutable arguments)
    /// @param roles the first holders of the bond's roles
    /// @return bond the new bond's address
    function createBond(IBondTerms.Terms calldata terms, IBondTerms.Rules calldata rules, IBondTerms.Roles calldata roles)
        external
        onlyRole(CREATOR_ROLE)
        returns (address bond)
    {
        bytes32 key = keccak256(bytes(terms.code));
        address existing = _bonds[key];
        if (existing != address(0)) revert BondCodeTaken(terms.code, existing);
        uint256[7] memory words = RulesCodec.pack(rules);
        bond = Clones.cloneWithImmutableArgs(implementation, abi.encodePacked(words));
        _bonds[key] = bond;
        BondServicing(bond).initialize(terms, roles);
        emit BondCreated(bond, terms.code, terms.isin, msg.sender);
    }

    /// @notice Frees the code of a bond that its admin retired before it issued anything
    /// (`retire`), so that a corrected bond can be created with it. The retired bond stays on
    /// chain, closed.
    /// @param code the bond code
    function releaseCode(string calldata code) external onlyRole(CREATOR_ROLE) {
        bytes32 key = keccak256(bytes(code));
        address bond = _bonds[key];
        if (bond == address(0)) revert NoSuchBond(code);
        if (BondServicing(bond).issued() || !BondServicing(bond).closed()) revert BondNotRetired(code, bond);
        delete _bonds[key];
        emit BondCodeReleased(bond, code, msg.sender);
    }

    /// @notice The bond created with `code` (zero if none).
    /// @param code the bond code
    /// @return the bond's address
    function bondByCode(string calldata code) external view returns (address) {
        return _bonds[keccak256(bytes(code))];
    }
}
