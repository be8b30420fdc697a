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
///   200-207 flags: PAUSED, CLOSED, RULES_AMENDED, ISSUED, SCHEDULED, FINAL_DUE, ALL_RECORDED,
///           COUPONS (the terms have a coupon: no mint before the payment schedule is on chain)
///   208-215 periods recorded: how many payment periods' record times the bond has passed
///   216-255 next record time: the record time of the first period not yet recorded (the final
///           period's once every period is recorded; the maturity when there is no schedule, so
///           that it is never after the maturity)
///
/// Account word `_accounts[wallet]`:
///   0-103   balance (token units)
///   104-207 frozen part of the balance (token units)
///   208-215 flags: WALLET_FROZEN, ARREARS (entitlements kept in `_arrears`)
///   216-223 coupon cursor: the periods before it are settled for this wallet (paid, or their
///           holding kept in `held` or `_arrears`); from it on, the holding is the balance
///   224-255 held: units held at the record time of period cursor-1, not yet paid (0 = nothing)
///
/// Period word `_periods[p]` (see {CouponMath}): record time, payment time, coupon and principal
/// per unit of face, flags FUNDED, FINAL, SWEPT, TAX_FIXED and the two rounding exponents.
// solhint-disable-next-line max-states-count
abstract contract BondStorage {
    /// @dev Role ids (their getters, ISSUER_ROLE() and so on, are in {BondServicing}: kept out of
    /// the token's dispatcher, which every transfer walks). The issuer mints (allots) and manages
    /// documents.
    bytes32 internal constant ROLE_ISSUER = keccak256("ISSUER_ROLE");
    /// @dev Role of the transfer agent (freezes, forced transfers, recovery).
    bytes32 internal constant ROLE_TRANSFER_AGENT = keccak256("TRANSFER_AGENT_ROLE");
    /// @dev Role that may pause and unpause transfers and mints.
    bytes32 internal constant ROLE_PAUSER = keccak256("PAUSER_ROLE");
    /// @dev Role of the paying agent: funds periods, pays holders in batches, remits tax.
    bytes32 internal constant ROLE_PAYING_AGENT = keccak256("PAYING_AGENT_ROLE");

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
    uint256 internal constant STATE_SCHEDULED = 1 << 204;
    uint256 internal constant STATE_FINAL_DUE = 1 << 205;
    uint256 internal constant STATE_ALL_RECORDED = 1 << 206;
    uint256 internal constant STATE_COUPONS = 1 << 207;
    uint256 internal constant RECORDED_SHIFT = 208;
    uint256 internal constant NEXT_RECORD_SHIFT = 216;
    /// @dev positions of the call terms in `_payTerms`
    uint256 internal constant CALL_FIRST_SHIFT = 104;
    uint256 internal constant CALL_PRICE_SHIFT = 144;
    uint256 internal constant CALL_REDEMPTION_SHIFT = 176;

    uint256 internal constant BALANCE_MASK = (1 << 104) - 1;
    uint256 internal constant FROZEN_SHIFT = 104;
    uint256 internal constant ACCOUNT_WALLET_FROZEN = 1 << 208;
    uint256 internal constant ACCOUNT_ARREARS = 1 << 209;
    uint256 internal constant CURSOR_SHIFT = 216;
    uint256 internal constant HELD_SHIFT = 224;
    uint256 internal constant MAX_HELD = type(uint32).max;
    /// @dev the bits of an account word below the coupon cursor (balance, frozen, flags)
    uint256 internal constant ACCOUNT_LOW = (1 << CURSOR_SHIFT) - 1;
    /// @dev the largest balance (and so supply, volume, cap) an account word can hold
    uint256 internal constant MAX_UNITS = BALANCE_MASK;

    /// @dev packed bond state (see above)
    uint256 internal _state;
    /// @dev packed account words (see above)
    // slither-disable-next-line uninitialized-state -- shared storage, written by another module via delegatecall
    mapping(address wallet => uint256 account) internal _accounts;
    mapping(address owner => mapping(address spender => uint256 amount)) internal _allowances;
    /// @dev units held per investor (all wallets), kept only when the rules say perInvestor
    mapping(uint64 investorId => uint256 units) internal _investorUnits;
    /// @dev the rules after an amendment (before one, they are read from the clone's immutable args)
    // slither-disable-next-line uninitialized-state -- shared storage, written by another module via delegatecall
    uint256[7] internal _amendedRules;
    /// @dev maximum total supply in token units (a term; kept here because mints read it)
    // slither-disable-next-line uninitialized-state -- shared storage, written by another module via delegatecall
    uint256 internal _issueVolumeUnits;
    /// @dev the investor a wallet's units are counted under while it holds any (perInvestor
    /// rules only): fixed when the wallet first receives units, so that a later change of the
    /// wallet's registry record cannot unbalance the per-investor totals
    mapping(address wallet => uint64 investorId) internal _countedAs;

    // ------------------------------------------------------------------ payments (coupons, principal)
    /// @dev the payment periods, packed (see {CouponMath}); a zero word means no such period
    mapping(uint256 period => uint256 word) internal _periods;
    /// @dev what was paid per period, in rounding units: coupon gross 0-63, national tax 64-127,
    /// local tax 128-191, principal 192-255
    // slither-disable-next-line uninitialized-state -- shared storage, written by another module via delegatecall
    mapping(uint256 period => uint256 word) internal _periodPaid;
    /// @dev funding per period: funded settlement units 0-127, units outstanding at the record
    /// time 128-231 (kept once the supply changes after the record time)
    mapping(uint256 period => uint256 word) internal _periodFunds;
    /// @dev after payment: tax remitted 0-127 and unclaimed funds returned 128-255 (settlement units)
    mapping(uint256 period => uint256 word) internal _periodClosed;
    /// @dev tax rates a period keeps once payable, when the rates changed after it became payable
    // slither-disable-next-line uninitialized-state -- shared storage, written by another module via delegatecall
    mapping(uint256 period => uint256[2] rates) internal _periodTaxRates;
    /// @dev settlement token 0-159, withholding rates of tax categories 0-2 (32 bits each from 160;
    /// see {CouponMath-RATE_SET}: a lane with its flag clear is a category the bond has no rates for)
    // slither-disable-next-line uninitialized-state -- shared storage, written by another module via delegatecall
    uint256 internal _payConfig;
    /// @dev withholding rates of tax categories 3-10 (32 bits each)
    // slither-disable-next-line uninitialized-state -- shared storage, written by another module via delegatecall
    uint256 internal _taxRatesHigh;
    /// @dev period count 0-7, supply-snapshot cursor 8-15, claim window 16-55, call notice 56-95,
    /// funded bound 96-103 (1 + the highest period ever funded), first call time 104-143, call
    /// price 144-175 and redemption price 176-207 in millionths (call price 0: not callable)
    uint256 internal _payTerms;
    /// @dev where withheld tax is remitted
    address internal _taxAccount;
    /// @dev units held at record times whose payment is still due, by wallet and period
    mapping(address wallet => mapping(uint256 period => uint256 units)) internal _arrears;
    /// @dev bit p set: `_arrears[wallet][p]` is due
    mapping(address wallet => uint256 mask) internal _arrearsMask;

    // ------------------------------------------------------------------ admin hand-over
    /// @dev A two-step, delayed hand-over of DEFAULT_ADMIN_ROLE in progress (see {TwoStepAdmin}).
    /// Nothing is written at a bond's creation (the admin role has one holder, granted then);
    /// the platform contract uses the same place on its own storage.
    /// @param from the admin who started the hand-over
    /// @param delay the hand-over delay in seconds (0: {DEFAULT_ADMIN_DELAY})
    /// @param pending the admin-to-be (zero: no hand-over in progress)
    /// @param acceptAfter when the pending admin may accept
    /// @param newDelay a scheduled change of the delay
    /// @param newDelayAt when the scheduled delay takes effect (zero: none scheduled)
    struct AdminHandover {
        address from;
        uint32 delay;
        address pending;
        uint40 acceptAfter;
        uint32 newDelay;
        uint40 newDelayAt;
    }

    /// @dev the admin hand-over state (see {AdminHandover})
    AdminHandover internal _adminHandover;

    /// @dev the hand-over delay a new bond and the platform start with
    uint32 internal constant DEFAULT_ADMIN_DELAY = 3 days;

    /// @dev Runs the call on `target`'s code with this contract's storage and returns (or
    /// reverts with) what it returned: how a bond reaches its servicing and payments modules.
    function _delegate(address target) internal {
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), target, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

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
