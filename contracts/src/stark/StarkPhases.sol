// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Session, VerifyingKey} from "./StarkTypes.sol";

/// @notice The shared statement-phase contract (StarkStatementPhase), as verifiers call it.
interface IStarkStatementPhase {
    function run(
        VerifyingKey memory vk,
        bytes calldata header,
        uint256[] calldata publics,
        address[] memory evaluators
    ) external view returns (Session memory);
}

/// @notice The shared query-phase contract (StarkQueryPhase), as verifiers call it.
interface IStarkQueryPhase {
    function run(
        VerifyingKey memory vk,
        Session memory s,
        bytes calldata data,
        uint256[] memory starts,
        uint256 from,
        uint256 count
    ) external pure returns (Session memory);
}
