// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {InvestorRecord} from "../registry/InvestorRecord.sol";
import {BondLedger} from "./BondLedger.sol";

/// @title AgentOperations
/// @notice What the transfer agent and the pauser may do: pause, freeze a wallet, freeze part of
/// a balance, forced transfers with a recorded reason, recovery of a lost wallet. Each goes
/// through the token's single transfer hook and emits an event that says who did it and why.
abstract contract AgentOperations is BondLedger {
    using InvestorRecord for uint256;

    /// @notice Emitted when transfers and mints are paused.
    /// @param account the pauser
    event Paused(address account);
    /// @notice Emitted when transfers and mints resume.
    /// @param account the pauser
    event Unpaused(address account);
    /// @notice Emitted when a wallet is frozen or unfrozen as a whole.
    /// @param wallet the wallet
    /// @param frozen whether it is now frozen
    /// @param agent the transfer agent
    event WalletFrozen(address indexed wallet, bool frozen, address indexed agent);
    /// @notice Emitted when part of a wallet's balance is frozen.
    /// @param wallet the wallet
    /// @param amount units frozen by this call
    /// @param totalFrozen units frozen in the wallet now
    /// @param agent the transfer agent
    event TokensFrozen(address indexed wallet, uint256 amount, uint256 totalFrozen, address indexed agent);
    /// @notice Emitted when part of a wallet's frozen balance is released.
    /// @param wallet the wallet
    /// @param amount units released by this call
    /// @param totalFrozen units frozen in the wallet now
    /// @param agent the transfer agent
    event TokensUnfrozen(address indexed wallet, uint256 amount, uint256 totalFrozen, address indexed agent);
    /// @notice Emitted with the Transfer event of a forced transfer.
    /// @param from the wallet units were taken from
    /// @param to the recipient
    /// @param amount units moved
    /// @param frozenMoved how many of them were frozen units (the sender's frozen amount shrank by this)
    /// @param agent the transfer agent
    /// @param reason why (court order, inheritance, ...: a reference an auditor can follow)
    event ForcedTransfer(
        address indexed from, address indexed to, uint256 amount, uint256 frozenMoved, address indexed agent, string reason
    );
    /// @notice Emitted when a lost wallet's holding is moved to another wallet of the same investor.
    /// @param lostWallet the lost wallet
    /// @param newWallet the investor's new wallet
    /// @param investorId the investor
    /// @param amount units moved
    /// @param frozenAmount frozen units moved with them
    /// @param agent the transfer agent
    /// @param reason why (a reference an auditor can follow)
    event WalletRecovered(
        address indexed lostWallet,
        address indexed newWallet,
        uint64 indexed investorId,
        uint256 amount,
        uint256 frozenAmount,
        address agent,
        string reason
    );

    /// @notice The state already is what the call asks for.
    error AlreadyInState();
    /// @notice Freezing more than the balance, or releasing more than is frozen.
    /// @param wallet the wallet
    /// @param requested units asked for
    /// @param available units available
    error FreezeAmountInvalid(address wallet, uint256 requested, uint256 available);
    /// @notice The two wallets do not belong to the same registered investor.
    /// @param lostWallet the lost wallet
    /// @param newWallet the new wallet
    error NotSameInvestor(address lostWallet, address newWallet);
    /// @notice A forced transfer or recovery needs a reason.
    error ReasonRequired();

    /// @notice Pauses transfers and mints (agent operations still work and say so in their events).
    function pause() external onlyRole(ROLE_PAUSER) {
        uint256 state = _state;
        if (state & STATE_PAUSED != 0) revert AlreadyInState();
        _state = state | STATE_PAUSED;
        emit Paused(msg.sender);
    }

    /// @notice Resumes transfers and mints.
    function unpause() external onlyRole(ROLE_PAUSER) {
        uint256 state = _state;
        if (state & STATE_PAUSED == 0) revert AlreadyInState();
        _state = state & ~STATE_PAUSED;
        emit Unpaused(msg.sender);
    }

    /// @notice True while transfers and mints are paused.
    /// @return whether paused
    function paused() external view returns (bool) {
        return _state & STATE_PAUSED != 0;
    }

    /// @notice Freezes or unfreezes a wallet as a whole: a frozen wallet neither sends nor receives.
    /// @param wallet the wallet
    /// @param frozen true to freeze, false to unfreeze
    function setWalletFrozen(address wallet, bool frozen) external onlyRole(ROLE_TRANSFER_AGENT) {
        uint256 a = _accounts[wallet];
        if ((a & ACCOUNT_WALLET_FROZEN != 0) == frozen) revert AlreadyInState();
        _accounts[wallet] = frozen ? a | ACCOUNT_WALLET_FROZEN : a & ~ACCOUNT_WALLET_FROZEN;
        emit WalletFrozen(wallet, frozen, msg.sender);
    }

    /// @notice Freezes `amount` more units of `wallet`'s balance.
    /// @param wallet the wallet
    /// @param amount units to freeze (frozen units may not exceed the balance)
    function freezeTokens(address wallet, uint256 amount) external onlyRole(ROLE_TRANSFER_AGENT) {
        uint256 a = _accounts[wallet];
        uint256 frozen = _frozen(a);
        uint256 free = (a & BALANCE_MASK) - frozen;
        if (amount == 0 || amount > free) revert FreezeAmountInvalid(wallet, amount, free);
        _accounts[wallet] = a + (amount << FROZEN_SHIFT);
        emit TokensFrozen(wallet, amount, frozen + amount, msg.sender);
    }

    /// @notice Releases `amount` of `wallet`'s frozen units.
    /// @param wallet the wallet
    /// @param amount units to release
    function unfreezeTokens(address wallet, uint256 amount) external onlyRole(ROLE_TRANSFER_AGENT) {
        uint256 a = _accounts[wallet];
        uint256 frozen = _frozen(a);
        if (amount == 0 || amount > frozen) revert FreezeAmountInvalid(wallet, amount, frozen);
        _accounts[wallet] = a - (amount << FROZEN_SHIFT);
        emit TokensUnfrozen(wallet, amount, frozen - amount, msg.sender);
    }

    /// @notice The wallet-level state of `wallet`.
    /// @param wallet the wallet
    /// @return balance units held
    /// @return frozenAmount units of the balance that are frozen
    /// @return walletFrozen whether the whole wallet is frozen
    function accountOf(address wallet) external view returns (uint256 balance, uint256 frozenAmount, bool walletFrozen) {
        uint256 a = _accounts[wallet];
        return (a & BALANCE_MASK, _frozen(a), a & ACCOUNT_WALLET_FROZEN != 0);
    }

    /// @notice Moves units without the sender's consent (court order, inheritance, error
    /// correction). See {TransferRestrictions-_checkForced} for exactly which rules it passes over.
    /// @param from the wallet to take units from
    /// @param to the recipient (must be an eligible investor)
    /// @param amount units to move
    /// @param reason why, for the record (required)
    function forcedTransfer(address from, address to, uint256 amount, string calldata reason)
        external
        onlyRole(ROLE_TRANSFER_AGENT)
    {
        if (bytes(reason).length == 0) revert ReasonRequired();
        _forced(from, to, amount, reason);
    }

    /// @notice Several forced transfers with one reason.
    /// @param from the wallets to take units from
    /// @param to the recipients
    /// @param amounts units to move
    /// @param reason why, for the record (required)
    function forcedTransferBatch(
        address[] calldata from,
        address[] calldata to,
        uint256[] calldata amounts,
        string calldata reason
    ) external onlyRole(ROLE_TRANSFER_AGENT) {
        if (bytes(reason).length == 0) revert ReasonRequired();
        if (from.length != to.length) revert LengthMismatch(from.length, to.length);
        if (from.length != amounts.length) revert LengthMismatch(from.length, amounts.length);
        for (uint256 i; i < from.length; ++i) {
            _forced(from[i], to[i], amounts[i], reason);
        }
    }

    /// @notice Moves the whole holding of a lost wallet, with its frozen units and wallet freeze, to
    /// another registered wallet of the same investor.
    /// @param lostWallet the lost wallet (still registered)
    /// @param newWallet the investor's new wallet (registered, same investor id)
    /// @param reason why, for the record (required)
    function recoverWallet(address lostWallet, address newWallet, string calldata reason)
        external
        onlyRole(ROLE_TRANSFER_AGENT)
    {
        if (bytes(reason).length == 0) revert ReasonRequired();
        (uint256 rl, uint256 rn) = _registry().recordsOf(lostWallet, newWallet);
        uint64 investor = rl.investorId();
        if (investor == 0 || investor != rn.investorId()) revert NotSameInvestor(lostWallet, newWallet);
        uint256 a = _accounts[lostWallet];
        uint256 amount = a & BALANCE_MASK;
        _update(lostWallet, newWallet, amount, MODE_RECOVERY);
        emit WalletRecovered(lostWallet, newWallet, investor, amount, _frozen(a), msg.sender, reason);
    }

    function _forced(address from, address to, uint256 amount, string calldata reason) private {
        uint256 a = _accounts[from];
        uint256 free = (a & BALANCE_MASK) - _frozen(a);
        _update(from, to, amount, MODE_FORCED);
        emit ForcedTransfer(from, to, amount, amount > free ? amount - free : 0, msg.sender, reason);
    }
}
