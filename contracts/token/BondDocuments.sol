// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {IERC1643} from "../interfaces/IERC1643.sol";
import {BondStorage} from "./BondStorage.sol";

/// @title BondDocuments
/// @notice ERC-1643 documents (prospectus, terms and conditions, notices) by name, with a URI and a
/// content hash, maintained by the issuer.
abstract contract BondDocuments is BondStorage, AccessControlUpgradeable, IERC1643 {
    /// @notice The document does not exist.
    /// @param name the document name
    error DocumentNotFound(bytes32 name);
    /// @notice A document needs a name and a URI.
    error InvalidDocument();

    struct Document {
        string uri;
        bytes32 documentHash;
        uint40 lastModified;
        uint32 position; // 1-based index in _documentNames
    }

    mapping(bytes32 name => Document) private _documents;
    bytes32[] private _documentNames;

    /// @inheritdoc IERC1643
    function setDocument(bytes32 name_, string calldata uri, bytes32 documentHash) external onlyRole(ROLE_ISSUER) {
        if (name_ == bytes32(0) || bytes(uri).length == 0) revert InvalidDocument();
        Document storage d = _documents[name_];
        if (d.position == 0) {
            _documentNames.push(name_);
            d.position = uint32(_documentNames.length);
        }
        d.uri = uri;
        d.documentHash = documentHash;
        d.lastModified = uint40(block.timestamp);
        emit DocumentUpdated(name_, uri, documentHash);
    }

    /// @inheritdoc IERC1643
    function removeDocument(bytes32 name_) external onlyRole(ROLE_ISSUER) {
        Document storage d = _documents[name_];
        uint256 position = d.position;
        if (position == 0) revert DocumentNotFound(name_);
        emit DocumentRemoved(name_, d.uri, d.documentHash);
        uint256 last = _documentNames.length;
        if (position != last) {
            bytes32 moved = _documentNames[last - 1];
            _documentNames[position - 1] = moved;
            _documents[moved].position = uint32(position);
        }
        _documentNames.pop();
        delete _documents[name_];
    }

    /// @inheritdoc IERC1643
    function getDocument(bytes32 name_) external view returns (string memory, bytes32, uint256) {
        Document storage d = _documents[name_];
        if (d.position == 0) revert DocumentNotFound(name_);
        return (d.uri, d.documentHash, d.lastModified);
    }

    /// @inheritdoc IERC1643
    function getAllDocuments() external view returns (bytes32[] memory) {
        return _documentNames;
    }
}
