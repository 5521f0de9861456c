// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StarkQueries} from "./StarkQueries.sol";
import {Session, VerifyingKey} from "./StarkTypes.sol";

/// @title The machine-independent query phase, deployed once and shared by every generated
/// verifier (which would otherwise outgrow the 24 KiB contract limit).
contract StarkQueryPhase is StarkQueries {
    /// @notice Read sections `from` .. `count - 1` of `data` (their starts as ProofFormat.walk
    /// returned them) into the session and return it; `data` was walked already.
    function run(
        VerifyingKey memory vk,
        Session memory s,
        bytes calldata data,
        uint256[] memory starts,
        uint256 from,
        uint256 count
    ) external pure returns (Session memory) {
        Queries memory q = _queries(vk, s);
        for (uint256 i = from; i < count; i++) {
            _section(vk, s, q, data[starts[i]:starts[i + 1]]);
        }
        return s;
    }
}
