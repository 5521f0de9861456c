// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Every rejection of a proof. `check` is the failed check, with the same names as the
/// Python verifier's error classes (heliostat.stark.errors: `proof_format`,
/// `proof_shape_mismatch`, `constraint_mismatch`, `logup_sum_nonzero`, `merkle_path_invalid`,
/// `fri_fold_mismatch`, `fri_final_poly_mismatch`, `proof_of_work_invalid`,
/// `ood_point_in_domain`) or `session` for the multi-transaction bookkeeping; `reason` is the
/// Python error's `reason` (e.g. `truncated`, `root_mismatch`) and otherwise repeats `check`.
error ProofRejected(string check, string reason);

library StarkErrors {
    function reject(string memory check, string memory reason) internal pure {
        revert ProofRejected(check, reason);
    }

    function reject(string memory check) internal pure {
        revert ProofRejected(check, check);
    }

    function format(string memory reason) internal pure {
        revert ProofRejected("proof_format", reason);
    }

    function shape() internal pure {
        revert ProofRejected("proof_shape_mismatch", "proof_shape_mismatch");
    }
}
