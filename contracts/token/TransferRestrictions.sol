// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {InvestorRecord} from "../registry/InvestorRecord.sol";
import {BondHook} from "./BondHook.sol";
import {RestrictionCodes as RC} from "./RestrictionCodes.sol";
import {RulesCodec} from "./RulesCodec.sol";

/// @title TransferRestrictions
/// @notice The bond's transfer rules and their evaluation (ERC-1404). The rules live in the
/// clone's immutable arguments (seven words appended to the EIP-1167 proxy code), so reading them
/// costs a warm EXTCODECOPY instead of cold storage reads; after an amendment they are read from
/// storage instead.
/// @dev Rule words: 0 = tradingUnit (bits 0-127) | maxBalance (128-255);
/// 1 = allowedClasses (0-31) | lockupUntil (32-71) | maxHolders (72-103) | countryMode (104-111)
///     | perInvestor (112-119) | regionCount (120-127);
/// 2-5 = the 1024-bit country bitmap; 6 = up to eight 32-bit region codes.
abstract contract TransferRestrictions is BondHook, AccessControlUpgradeable {
    using InvestorRecord for uint256;

    uint256 internal constant RULE_WORDS = 7;
    uint256 internal constant LOCKUP_SHIFT = RulesCodec.LOCKUP_SHIFT;
    uint256 internal constant MAX_HOLDERS_SHIFT = RulesCodec.MAX_HOLDERS_SHIFT;
    uint256 internal constant COUNTRY_MODE_SHIFT = RulesCodec.COUNTRY_MODE_SHIFT;
    uint256 internal constant PER_INVESTOR_SHIFT = RulesCodec.PER_INVESTOR_SHIFT;
    uint256 internal constant REGION_COUNT_SHIFT = RulesCodec.REGION_COUNT_SHIFT;
    uint256 internal constant COUNTRY_ANY = 0;
    uint256 internal constant COUNTRY_ALLOW = 1;
    /// @dev offset of the immutable args in an EIP-1167 clone's code
    uint256 private constant ARGS_OFFSET = 0x2d;

    /// @notice A transfer or mint is refused; `code` is the ERC-1404 restriction code.
    /// @param code restriction code (see messageForTransferRestriction)
    /// @param from sender (zero for a mint)
    /// @param to recipient
    /// @param value amount in token units
    error TransferRestricted(uint8 code, address from, address to, uint256 value);

    /// @dev what the evaluation loaded, for the hook to apply the change without reading it again
    struct Ctx {
        address from;
        address to;
        uint64 fromId;
        uint64 toId;
        uint256 state;
        uint256 fromAcct;
        uint256 toAcct;
        uint256 fromRec;
        uint256 toRec;
        uint256 w1;
        uint256 fromUnits;
        uint256 toUnits;
    }

    // ------------------------------------------------------------------ evaluation

    /// @dev A transfer between investors: every rule applies.
    function _checkTransfer(address from, address to, uint256 value, Ctx memory c) internal view returns (uint8) {
        uint8 code = _checkOpen(to, c);
        if (code != RC.SUCCESS) return code;
        uint256 state = c.state;
        code = _checkParties(from, to, c);
        if (code != RC.SUCCESS) return code;
        uint256 fa = _accounts[from];
        uint256 ta = _accounts[to];
        c.fromAcct = fa;
        c.toAcct = ta;
        if (fa & ACCOUNT_WALLET_FROZEN != 0) return RC.SENDER_FROZEN;
        if (ta & ACCOUNT_WALLET_FROZEN != 0) return RC.RECIPIENT_FROZEN;
        (uint256 rp, uint256 w0, uint256 w1) = _loadRules(state);
        c.w1 = w1;
        if (block.timestamp < uint40(w1 >> LOCKUP_SHIFT)) return RC.LOCKED_UP;
        if (value % uint128(w0) != 0) return RC.NOT_TRADING_UNIT_MULTIPLE;
        uint256 balance = fa & BALANCE_MASK;
        if (value > balance) return RC.INSUFFICIENT_BALANCE;
        if (value > balance - _frozen(fa)) return RC.AMOUNT_FROZEN;
        code = _recipientAttributesCode(c.toRec, w1, rp);
        if (code != RC.SUCCESS || from == to) return code;
        return _checkLimits(value, balance, w0, w1, c);
    }

    /// @dev the bond open for transfers and mints (not closed, not paused, not matured) and a
    /// valid recipient; loads the bond state into `c`
    function _checkOpen(address to, Ctx memory c) private view returns (uint8) {
        uint256 state = _advance(_state);
        c.state = state;
        if (state & STATE_CLOSED != 0) return RC.BOND_CLOSED;
        if (state & STATE_PAUSED != 0) return RC.PAUSED;
        if (block.timestamp >= _maturity(state) || _finalRecorded(state)) return RC.BOND_MATURED;
        if (to == address(0) || to == address(this)) return RC.INVALID_RECIPIENT;
        return RC.SUCCESS;
    }

    /// @dev both parties of a transfer: registered, not suspended, KYC valid
    function _checkParties(address from, address to, Ctx memory c) private view returns (uint8) {
        (uint256 rf, uint256 rt) = _recordsOf(from, to);
        c.fromRec = rf;
        c.toRec = rt;
        if (rf.investorId() == 0) return RC.SENDER_NOT_REGISTERED;
        if (rt.investorId() == 0) return RC.RECIPIENT_NOT_REGISTERED;
        if (rf.suspended()) return RC.SENDER_SUSPENDED;
        if (rt.suspended()) return RC.RECIPIENT_SUSPENDED;
        if (rf.kycValidUntil() <= block.timestamp) return RC.SENDER_KYC_EXPIRED;
        if (rt.kycValidUntil() <= block.timestamp) return RC.RECIPIENT_KYC_EXPIRED;
        return RC.SUCCESS;
    }

    /// @dev A mint (allotment): the recipient's rules and the issue volume apply; the lock-up does not.
    function _checkMint(address to, uint256 value, Ctx memory c) internal view returns (uint8) {
        uint8 code = _checkOpen(to, c);
        if (code != RC.SUCCESS) return code;
        uint256 state = c.state;
        // a bond with a coupon issues nothing before its payment schedule is on chain
        if (state & (STATE_COUPONS | STATE_SCHEDULED) == STATE_COUPONS) return RC.NO_PAYMENT_SCHEDULE;
        uint256 rt = _recordOf(to);
        c.toRec = rt;
        code = _checkRecipientIdentity(rt);
        if (code != RC.SUCCESS) return code;
        uint256 ta = _accounts[to];
        c.toAcct = ta;
        if (ta & ACCOUNT_WALLET_FROZEN != 0) return RC.RECIPIENT_FROZEN;
        (uint256 rp, uint256 w0, uint256 w1) = _loadRules(state);
        c.w1 = w1;
        if (value % uint128(w0) != 0) return RC.NOT_TRADING_UNIT_MULTIPLE;
        if (value > _issueVolumeUnits - (state & SUPPLY_MASK)) return RC.ISSUE_VOLUME_EXCEEDED;
        code = _recipientAttributesCode(rt, w1, rp);
        if (code != RC.SUCCESS) return code;
        return _checkLimits(value, 0, w0, w1, c);
    }

    /// @dev A forced transfer by the transfer agent. It passes over: pause, maturity, lock-up, the
    /// sender's registration, KYC, suspension and freezes (wallet and partial: frozen units move
    /// after the free ones and the frozen amount shrinks by what moved), the maximum holding and the
    /// maximum number of holders. It still requires: the bond not closed, a valid recipient who is
    /// registered, not suspended, KYC-valid, not frozen and of an allowed class, country and region,
    /// a trading-unit multiple and enough balance.
    function _checkForced(address from, address to, uint256 value, Ctx memory c) internal view returns (uint8) {
        uint8 code = _checkAgentParties(from, to, c, false);
        if (code != RC.SUCCESS) return code;
        if (c.toAcct & ACCOUNT_WALLET_FROZEN != 0) return RC.RECIPIENT_FROZEN;
        // after the final record time the holders of record are fixed: units no longer move
        if (_finalRecorded(c.state)) return RC.BOND_MATURED;
        (uint256 rp, uint256 w0, uint256 w1) = _loadRules(c.state);
        c.w1 = w1;
        if (value % uint128(w0) != 0) return RC.NOT_TRADING_UNIT_MULTIPLE;
        if (value > (c.fromAcct & BALANCE_MASK)) return RC.INSUFFICIENT_BALANCE;
        code = _recipientAttributesCode(c.toRec, w1, rp);
        if (code != RC.SUCCESS) return code;
        _loadInvestorUnits(w1, c);
        return RC.SUCCESS;
    }

    /// @dev Recovery of a lost wallet to another wallet of the same investor. The new wallet must
    /// be registered, not suspended, KYC-valid and of a class, country and region the bond allows
    /// (what a transfer to it would need of it as a recipient); pause, freezes, lock-up, limits and
    /// the lost wallet's KYC are passed over, since the investor and the holding do not change.
    /// A closed bond still recovers what a lost wallet is owed (its units are all redeemed, but
    /// its coupons may not be). The caller checks that both wallets share the investor id.
    function _checkRecovery(address from, address to, Ctx memory c) internal view returns (uint8) {
        uint8 code = _checkAgentParties(from, to, c, true);
        if (code != RC.SUCCESS) return code;
        // after the final record time a lost wallet's whole position (units and what is owed on
        // them) moves only to an unused wallet, so that nothing is merged into a holding of record
        if (_finalRecorded(c.state) && c.toAcct & ~(uint256(0xff) << CURSOR_SHIFT) != 0) {
            return RC.INVALID_RECIPIENT; // holds units, or is owed something (its cursor aside)
        }
        (uint256 rp,, uint256 w1) = _loadRules(c.state);
        c.w1 = w1;
        code = _recipientAttributesCode(c.toRec, w1, rp);
        if (code != RC.SUCCESS) return code;
        _loadInvestorUnits(w1, c);
        return RC.SUCCESS;
    }

    /// @dev A redemption burn: no transfer rule applies (the payment decided it); loads what the
    /// hook needs.
    function _checkBurn(address from, Ctx memory c) internal view returns (uint8) {
        uint256 state = _advance(_state);
        c.state = state;
        c.fromAcct = _accounts[from];
        c.w1 = _ruleWord(state, 1);
        _loadInvestorUnits(c.w1, c);
        return RC.SUCCESS;
    }

    /// @dev What forced transfers and recoveries share: the bond not closed (unless `whenClosed`),
    /// a recipient other than the sender, the zero address and the bond, who is registered, not
    /// suspended and KYC-valid; loads the state, both records and both accounts into `c`
    function _checkAgentParties(address from, address to, Ctx memory c, bool whenClosed)
        private
        view
        returns (uint8)
    {
        uint256 state = _advance(_state);
        c.state = state;
        if (state & STATE_CLOSED != 0 && !whenClosed) return RC.BOND_CLOSED;
        if (to == address(0) || to == address(this) || to == from) return RC.INVALID_RECIPIENT;
        (uint256 rf, uint256 rt) = _recordsOf(from, to);
        c.fromRec = rf;
        c.toRec = rt;
        uint8 code = _checkRecipientIdentity(rt);
        if (code != RC.SUCCESS) return code;
        c.fromAcct = _accounts[from];
        c.toAcct = _accounts[to];
        return RC.SUCCESS;
    }

    function _checkRecipientIdentity(uint256 rt) private view returns (uint8) {
        if (rt.investorId() == 0) return RC.RECIPIENT_NOT_REGISTERED;
        if (rt.suspended()) return RC.RECIPIENT_SUSPENDED;
        if (rt.kycValidUntil() <= block.timestamp) return RC.RECIPIENT_KYC_EXPIRED;
        return RC.SUCCESS;
    }

    /// @dev class, country and residents-only region of the recipient
    function _recipientAttributesCode(uint256 rt, uint256 w1, uint256 rp) internal view returns (uint8) {
        unchecked {
            uint256 classes = uint32(w1);
            if (classes != 0 && (classes >> uint8(rt >> InvestorRecord.CLASS_SHIFT)) & 1 == 0) {
                return RC.CLASS_NOT_ALLOWED;
            }
            uint256 mode = uint8(w1 >> COUNTRY_MODE_SHIFT);
            if (mode != COUNTRY_ANY) {
                uint256 country = uint16(rt >> InvestorRecord.COUNTRY_SHIFT);
                uint256 listed = country < 1024 ? (_ruleWordAt(rp, 2 + (country >> 8)) >> (country & 255)) & 1 : 0;
                if ((mode == COUNTRY_ALLOW) == (listed == 0)) return RC.COUNTRY_NOT_ALLOWED;
            }
            uint256 regionCount = uint8(w1 >> REGION_COUNT_SHIFT);
            if (regionCount != 0) {
                uint256 region = uint32(rt >> InvestorRecord.REGION_SHIFT);
                if (region == 0) return RC.REGION_NOT_ALLOWED;
                uint256 prefecture = region / 10000;
                uint256 regions = _ruleWordAt(rp, 6);
                for (uint256 i; i < regionCount; ++i) {
                    uint256 rule = uint32(regions >> (i << 5));
                    if (rule == region || rule == prefecture) return RC.SUCCESS;
                }
                return RC.REGION_NOT_ALLOWED;
            }
            return RC.SUCCESS;
        }
    }

    /// @dev maximum holding and maximum number of holders, per wallet or per investor
    function _checkLimits(uint256 value, uint256 fromBalance, uint256 w0, uint256 w1, Ctx memory c)
        private
        view
        returns (uint8)
    {
        uint256 maxBalance = w0 >> 128;
        uint256 maxHolders = uint32(w1 >> MAX_HOLDERS_SHIFT);
        uint256 toHeld;
        uint256 fromHeld = fromBalance;
        if (uint8(w1 >> PER_INVESTOR_SHIFT) != 0) {
            _loadInvestorUnits(w1, c);
            if (c.fromId == c.toId) return RC.SUCCESS; // moving between one investor's wallets
            toHeld = c.toUnits;
            fromHeld = c.fromUnits;
        } else {
            toHeld = c.toAcct & BALANCE_MASK;
        }
        if (maxBalance != 0 && (toHeld > maxBalance || value > maxBalance - toHeld)) return RC.MAX_BALANCE_EXCEEDED;
        if (maxHolders != 0 && toHeld == 0 && value != 0 && !(fromHeld == value) && _holders(c.state) >= maxHolders) {
            return RC.MAX_HOLDERS_REACHED;
        }
        return RC.SUCCESS;
    }

    /// @dev Loads the per-investor unit totals when the rules keep them. Units are counted under
    /// the investor recorded for the wallet when it first received them ({_countedAs}), or, for a
    /// wallet that holds none, the investor the registry names now.
    function _loadInvestorUnits(uint256 w1, Ctx memory c) internal view {
        if (uint8(w1 >> PER_INVESTOR_SHIFT) == 0) return;
        uint64 idFrom = c.from == address(0) ? 0 : _countedAs[c.from];
        if (idFrom == 0) idFrom = c.fromRec.investorId();
        uint64 idTo = _countedAs[c.to];
        if (idTo == 0) idTo = c.toRec.investorId();
        c.fromId = idFrom;
        c.toId = idTo;
        if (idFrom == idTo) return;
        if (idFrom != 0) c.fromUnits = _investorUnits[idFrom];
        c.toUnits = _investorUnits[idTo];
    }

    // ------------------------------------------------------------------ rule words

    /// @dev The registry's packed records of two wallets, by the registry's raw query (two words in,
    /// two words out; see {InvestorRegistry-_answerRecordsQuery}). The registry's address is warm,
    /// being the implementation's.
    function _recordsOf(address a, address b) internal view returns (uint256 ra, uint256 rb) {
        address reg = address(_registry());
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, a)
            mstore(add(p, 0x20), b)
            if iszero(staticcall(gas(), reg, p, 0x40, p, 0x40)) {
                returndatacopy(p, 0, returndatasize())
                revert(p, returndatasize())
            }
            ra := mload(p)
            rb := mload(add(p, 0x20))
        }
    }

    /// @dev The registry's packed record of one wallet, by the raw query for one wallet (see
    /// {InvestorRegistry-_answerRecordQuery}).
    function _recordOf(address a) internal view returns (uint256 ra) {
        address reg = address(_registry());
        assembly ("memory-safe") {
            mstore(0, a)
            if iszero(staticcall(gas(), reg, 0, 0x20, 0, 0x20)) {
                returndatacopy(0, 0, returndatasize())
                revert(0, returndatasize())
            }
            ra := mload(0)
        }
    }

    /// @dev Loads the rules for one evaluation. Before an amendment the seven words are copied from
    /// the clone's code with one EXTCODECOPY into fresh memory (`rp` points at them); after one,
    /// words 0 and 1 are read from storage and `rp` is 0, so that the others are read on demand.
    function _loadRules(uint256 state) internal view returns (uint256 rp, uint256 w0, uint256 w1) {
        if (state & STATE_RULES_AMENDED != 0) return (0, _amendedRules[0], _amendedRules[1]);
        assembly ("memory-safe") {
            rp := mload(0x40)
            mstore(0x40, add(rp, 0xe0))
            extcodecopy(address(), rp, ARGS_OFFSET, 0xe0)
            w0 := mload(rp)
            w1 := mload(add(rp, 0x20))
        }
    }

    /// @dev rule word `i` of an evaluation's rules (see {_loadRules})
    function _ruleWordAt(uint256 rp, uint256 i) internal view returns (uint256 w) {
        if (rp == 0) return _amendedRules[i];
        assembly ("memory-safe") {
            w := mload(add(rp, shl(5, i)))
        }
    }

    function _ruleWord(uint256 state, uint256 i) internal view returns (uint256 w) {
        if (state & STATE_RULES_AMENDED != 0) return _amendedRules[i];
        assembly ("memory-safe") {
            extcodecopy(address(), 0, add(ARGS_OFFSET, shl(5, i)), 0x20)
            w := mload(0)
        }
    }

    /// @dev the platform's investor registry
    function _registry() internal view virtual returns (IInvestorRegistry);
}
