"""Verify a zkVM proof against its public values (imports no prover module).

`verify` raises `ZkvmVerificationError` with the STARK layer's reason when the proof is
rejected, or `PublicValuesError` when the public values themselves are malformed.
"""

from __future__ import annotations

import functools

from heliostat.stark.config import DEFAULT, StarkConfig
from heliostat.stark.errors import ProofFormatError, VerificationError
from heliostat.stark.keys import VerifyingKey, verifying_key
from heliostat.stark.proof import Proof
from heliostat.stark.verifier import verify as stark_verify
from heliostat.zkvm.errors import ZkvmVerificationError
from heliostat.zkvm.machine import zkvm_machine
from heliostat.zkvm.public_values import PublicValues


@functools.cache
def zkvm_verifying_key(config: StarkConfig = DEFAULT) -> VerifyingKey:
    """Return the verifying key of the zkVM machine under ``config`` (cached)."""
    return verifying_key(zkvm_machine(), config)


def verify(
    proof: Proof | bytes, public_values: PublicValues, config: StarkConfig = DEFAULT
) -> None:
    """Accept the proof of ``public_values`` or raise why not."""
    fields = public_values.to_fields()
    try:
        decoded = proof if isinstance(proof, Proof) else Proof.from_bytes(proof)
        stark_verify(zkvm_verifying_key(config), decoded, fields)
    except (VerificationError, ProofFormatError) as err:
        raise ZkvmVerificationError(
            f"proof rejected: {err}", reason=getattr(err, "reason", "proof_rejected"), cause=err
        ) from err


def is_valid(
    proof: Proof | bytes, public_values: PublicValues, config: StarkConfig = DEFAULT
) -> bool:
    """Return True if ``verify`` accepts."""
    try:
        verify(proof, public_values, config)
    except ZkvmVerificationError:
        return False
    return True
