// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StarkStatement} from "./StarkStatement.sol";
import {Session, VerifyingKey} from "./StarkTypes.sol";

/// @title The machine-independent statement phase, deployed once and shared by every generated
/// verifier (which then holds little more than its verifying key, under the 24 KiB limit).
contract StarkStatementPhase is StarkStatement {
    /// @notice Read the header section: shape, transcript to the queries, constraints at zeta,
    /// the tables sent in the clear, LogUp and proof of work (heliostat.stark.verifier's
    /// order); `evaluators` are the verifier's generated constraint evaluators.
    function run(
        VerifyingKey memory vk,
        bytes calldata header,
        uint256[] calldata publics,
        address[] memory evaluators
    ) external view returns (Session memory) {
        return _statementPhase(vk, header, publics, evaluators);
    }
}
