// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title BondStorage
/// @notice The bond's hot storage and its packing: one bond-state word and one word per account,
/// so that a transfer touches the two balance words, the state word and nothing else of the bond.
/// @dev The bond is an EIP-1167 clone that is never upgraded, so plain state variables are used;
/// OpenZeppelin's upgradeable pieces keep their own ERC-7201 namespaces.
///
/// Bond state word `_state` (bit offsets):
///   0-127   total supply (token units)
///   128-159 number of holders (wallets, or investors when the rules say perInvestor)
///   160-199 maturity date (unix time)
///   200-207 flags: PAUSED, CLOSED, RULES_AMENDED, ISSUED
///   208-255 reserved for the coupon schedule cursor (next issue)
///
/// Account word `_accounts[wallet]`:
///   0-103   balance (token units)
///   104-207 frozen part of the balance (token units)
///   208-215 flags: WALLET_FROZEN
///   216-255 reserved for per-holder coupon state (next issue)
abstract contract BondStorage {
    /// @notice Role that mints (allots) and manages documents.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice Role of the transfer agent (freezes, forced transfers, recovery).
    bytes32 public constant TRANSFER_AGENT_ROLE = keccak256("TRANSFER_AGENT_ROLE");
    /// @notice Role that may pause and unpause transfers and mints.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice Array arguments of a batch call differ in length.
    /// @param a length of the first array
    /// @param b length of the other
    error LengthMismatch(uint256 a, uint256 b);

    uint256 internal constant SUPPLY_MASK = (1 << 128) - 1;
    uint256 internal constant HOLDERS_SHIFT = 128;
    uint256 internal constant HOLDERS_ONE = 1 << HOLDERS_SHIFT;
    uint256 internal constant MATURITY_SHIFT = 160;
    uint256 internal constant STATE_PAUSED = 1 << 200;
    uint256 internal constant STATE_CLOSED = 1 << 201;
    uint256 internal constant STATE_RULES_AMENDED = 1 << 202;
    uint256 internal constant STATE_ISSUED = 1 << 203;

    uint256 internal constant BALANCE_MASK = (1 << 104) - 1;
    uint256 internal constant FROZEN_SHIFT = 104;
    uint256 internal constant ACCOUNT_WALLET_FROZEN = 1 << 208;
    /// @dev the largest balance (and so supply, volume, cap) an account word can hold
    uint256 internal constant MAX_UNITS = BALANCE_MASK;

    /// @dev packed bond state (see above)
    uint256 internal _state;
    /// @dev packed account words (see above)
    mapping(address wallet => uint256 account) internal _accounts;
    mapping(address owner => mapping(address spender => uint256 amount)) internal _allowances;
    /// @dev units held per investor (all wallets), kept only when the rules say perInvestor
    mapping(uint64 investorId => uint256 units) internal _investorUnits;
    /// @dev the rules after an amendment (before one, they are read from the clone's immutable args)
    uint256[7] internal _amendedRules;
    /// @dev maximum total supply in token units (a term; kept here because mints read it)
    uint256 internal _issueVolumeUnits;
    /// @dev the investor a wallet's units are counted under while it holds any (perInvestor
    /// rules only): fixed when the wallet first receives units, so that a later change of the
    /// wallet's registry record cannot unbalance the per-investor totals
    mapping(address wallet => uint64 investorId) internal _countedAs;

    function _balance(uint256 account) internal pure returns (uint256) {
        return account & BALANCE_MASK;
    }

    function _frozen(uint256 account) internal pure returns (uint256) {
        return (account >> FROZEN_SHIFT) & BALANCE_MASK;
    }

    function _holders(uint256 state) internal pure returns (uint256) {
        return uint32(state >> HOLDERS_SHIFT);
    }

    function _maturity(uint256 state) internal pure returns (uint256) {
        return uint40(state >> MATURITY_SHIFT);
    }
}
