// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {BondStorage} from "./BondStorage.sol";

/// @title TwoStepAdmin
/// @notice One holder of DEFAULT_ADMIN_ROLE, handed over in two steps with a delay, in the manner
/// of OpenZeppelin's AccessControlDefaultAdminRules (same function names): the admin starts a
/// hand-over to a new address; the new address accepts it once the delay has passed; until then
/// the admin can cancel it. The admin role can be neither granted, revoked nor renounced
/// directly, so a mistyped address or a stolen key cannot take a bond or the platform at once,
/// and a bond never ends up without an admin.
/// @dev Used by {BondToken}, whose AccessControl functions answer for the platform's registry (on
/// the platform contract's storage) and for every bond (on the clone's). The single admin is the
/// one granted at creation; the state of a hand-over lives in {BondStorage-_adminHandover} and
/// nothing is written until one starts (a bond's creation stays as cheap as before).
/// OpenZeppelin's own contract does not fit here: it stores the admin at creation (a slot more
/// per bond), and the platform contract is near the EIP-170 size limit.
abstract contract TwoStepAdmin is BondStorage, AccessControlUpgradeable {
    /// @notice Emitted when the admin starts a hand-over.
    /// @param admin the current admin
    /// @param newAdmin the admin-to-be
    /// @param acceptAfter when the new admin may accept
    event DefaultAdminTransferScheduled(address indexed admin, address indexed newAdmin, uint256 acceptAfter);
    /// @notice Emitted when the admin cancels a hand-over in progress.
    /// @param admin the admin
    /// @param newAdmin the admin-to-be that was cancelled
    event DefaultAdminTransferCanceled(address indexed admin, address indexed newAdmin);
    /// @notice Emitted when the new admin accepts: the role moves.
    /// @param previousAdmin the admin before
    /// @param newAdmin the admin now
    event DefaultAdminTransferred(address indexed previousAdmin, address indexed newAdmin);
    /// @notice Emitted when the admin schedules a change of the hand-over delay.
    /// @param oldDelay the delay before, in seconds
    /// @param newDelay the delay after, in seconds
    /// @param effectiveAt when the new delay takes effect (after the delay in force now)
    event DefaultAdminDelayChangeScheduled(uint256 oldDelay, uint256 newDelay, uint256 effectiveAt);

    /// @notice DEFAULT_ADMIN_ROLE moves only by {beginDefaultAdminTransfer} and
    /// {acceptDefaultAdminTransfer}; it cannot be granted, revoked or renounced.
    error AdminRoleMovesByHandoverOnly();
    /// @notice The new admin must be a real address other than the current admin.
    /// @param newAdmin the address given
    error InvalidNewAdmin(address newAdmin);
    /// @notice Only the pending admin may accept, after `acceptAfter` (as OpenZeppelin's rules).
    /// @param caller who called
    /// @param pending the pending admin (zero: no hand-over in progress)
    /// @param acceptAfter when it may accept
    error AdminHandoverNotAcceptable(address caller, address pending, uint256 acceptAfter);
    /// @notice There is no hand-over to cancel.
    error NoAdminHandover();
    /// @notice A hand-over delay must be at least one second.
    error InvalidAdminDelay();

    /// @notice The hand-over in progress.
    /// @return newAdmin the admin-to-be (zero: none)
    /// @return acceptAfter it may accept after this time
    function pendingDefaultAdmin() external view returns (address newAdmin, uint256 acceptAfter) {
        return (_adminHandover.pending, _adminHandover.acceptAfter);
    }

    /// @notice The hand-over delay in force now, in seconds.
    /// @return the delay
    function defaultAdminDelay() public view returns (uint256) {
        AdminHandover storage h = _adminHandover;
        uint256 effectiveAt = h.newDelayAt;
        uint256 delay = effectiveAt != 0 && block.timestamp >= effectiveAt ? h.newDelay : h.delay;
        return delay == 0 ? DEFAULT_ADMIN_DELAY : delay;
    }

    /// @notice A scheduled change of the delay.
    /// @return newDelay the delay it will be, in seconds
    /// @return effectiveAt when (zero: none scheduled, or already in effect)
    function pendingDefaultAdminDelay() external view returns (uint256 newDelay, uint256 effectiveAt) {
        AdminHandover storage h = _adminHandover;
        if (h.newDelayAt == 0 || block.timestamp >= h.newDelayAt) return (0, 0);
        return (h.newDelay, h.newDelayAt);
    }

    /// @notice Starts handing the admin role to `newAdmin` (the admin); it may accept after the
    /// delay. Replaces a hand-over in progress.
    /// @param newAdmin the admin-to-be
    function beginDefaultAdminTransfer(address newAdmin) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newAdmin == address(0) || newAdmin == msg.sender) revert InvalidNewAdmin(newAdmin);
        uint256 acceptAfter = block.timestamp + defaultAdminDelay();
        AdminHandover storage h = _adminHandover;
        h.from = msg.sender;
        h.pending = newAdmin;
        h.acceptAfter = uint40(acceptAfter);
        emit DefaultAdminTransferScheduled(msg.sender, newAdmin, acceptAfter);
    }

    /// @notice Cancels the hand-over in progress (the admin).
    function cancelDefaultAdminTransfer() external onlyRole(DEFAULT_ADMIN_ROLE) {
        address pending = _adminHandover.pending;
        if (pending == address(0)) revert NoAdminHandover();
        delete _adminHandover.pending;
        delete _adminHandover.acceptAfter;
        emit DefaultAdminTransferCanceled(msg.sender, pending);
    }

    /// @notice Completes the hand-over (the pending admin, after `acceptAfter`): the role
    /// leaves the admin who started it and goes to the caller.
    function acceptDefaultAdminTransfer() external {
        AdminHandover storage h = _adminHandover;
        address pending = h.pending;
        uint256 acceptAfter = h.acceptAfter;
        if (msg.sender != pending || block.timestamp <= acceptAfter) {
            revert AdminHandoverNotAcceptable(msg.sender, pending, acceptAfter);
        }
        address previous = h.from;
        delete h.pending;
        delete h.acceptAfter;
        delete h.from;
        _revokeRole(DEFAULT_ADMIN_ROLE, previous);
        _grantRole(DEFAULT_ADMIN_ROLE, pending);
        emit DefaultAdminTransferred(previous, pending);
    }

    /// @notice Schedules a new hand-over delay (the admin): it takes effect once the delay in
    /// force now has passed, so that the delay cannot be cut short by the key it protects against.
    /// @param newDelay the delay in seconds (at least one)
    function changeDefaultAdminDelay(uint32 newDelay) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newDelay == 0) revert InvalidAdminDelay();
        AdminHandover storage h = _adminHandover;
        uint256 current = defaultAdminDelay();
        uint256 effectiveAt = block.timestamp + current;
        h.delay = uint32(current);
        h.newDelay = newDelay;
        h.newDelayAt = uint40(effectiveAt);
        emit DefaultAdminDelayChangeScheduled(current, newDelay, effectiveAt);
    }

    /// @notice Grants `role` to `account` (the role's admin); not DEFAULT_ADMIN_ROLE.
    /// @param role the role
    /// @param account the account
    function grantRole(bytes32 role, address account) public virtual override {
        if (role == DEFAULT_ADMIN_ROLE) revert AdminRoleMovesByHandoverOnly();
        super.grantRole(role, account);
    }

    /// @notice Revokes `role` from `account` (the role's admin); not DEFAULT_ADMIN_ROLE.
    /// @param role the role
    /// @param account the account
    function revokeRole(bytes32 role, address account) public virtual override {
        if (role == DEFAULT_ADMIN_ROLE) revert AdminRoleMovesByHandoverOnly();
        super.revokeRole(role, account);
    }

    /// @notice Gives up `role` (the caller must confirm its own address); not DEFAULT_ADMIN_ROLE.
    /// @param role the role
    /// @param callerConfirmation the caller's address
    function renounceRole(bytes32 role, address callerConfirmation) public virtual override {
        if (role == DEFAULT_ADMIN_ROLE) revert AdminRoleMovesByHandoverOnly();
        super.renounceRole(role, callerConfirmation);
    }
}
