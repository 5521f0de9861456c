"""Proof jobs: what a worker is asked to prove, what it sends back, and how both are checked.

A job travels between processes (and Ray nodes) as bytes in a small versioned binary format,
never pickled objects: a worker is handed a `ProofRequest`, proves it, and answers with a
`ProofArtifact` (the proof's own bytes and the public values it proves). The service checks
every artifact with the verifier before it stores it: a worker is trusted with CPU time, not
with correctness.

Kinds of job are registered in `KINDS`; each says how to prove a payload and how to verify
the artifact against the same payload. "zkvm-program" proves one run of an sBPF ELF in the
zkVM; "batch" proves a sealed batch with the runtime in proving mode (batch_job.py).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from heliostat.primitives.errors import HeliostatError

REQUEST_MAGIC = b"HPRQ\x01"
ARTIFACT_MAGIC = b"HPAR\x01"
MAX_FIELD_BYTES = 1 << 30  # a single length-prefixed field; proofs are well under this


class ProverServiceError(HeliostatError):
    """Base error of the prover service."""


class JobFormatError(ProverServiceError):
    """A request or artifact that does not decode."""


class JobRejectedError(ProverServiceError):
    """A worker's artifact that the verifier rejects."""


def _pack(*fields: bytes) -> bytes:
    return b"".join(struct.pack("<I", len(f)) + f for f in fields)


def _unpack(data: bytes, count: int, what: str) -> list[bytes]:
    out, pos = [], 0
    for _ in range(count):
        if pos + 4 > len(data):
            raise JobFormatError(f"{what} is truncated", reason="truncated")
        (n,) = struct.unpack_from("<I", data, pos)
        pos += 4
        if n > MAX_FIELD_BYTES or pos + n > len(data):
            raise JobFormatError(
                f"{what}: a field of {n} bytes overruns the data", reason="truncated"
            )
        out.append(data[pos : pos + n])
        pos += n
    if pos != len(data):
        raise JobFormatError(f"{what} has {len(data) - pos} trailing bytes", reason="trailing")
    return out


@dataclass(frozen=True)
class ProofRequest:
    """What to prove: a job kind, the STARK parameter set, and the kind's payload."""

    kind: str
    config: str
    payload: bytes

    def to_bytes(self) -> bytes:
        """Encode for a worker."""
        return REQUEST_MAGIC + _pack(self.kind.encode(), self.config.encode(), self.payload)

    @classmethod
    def from_bytes(cls, data: bytes) -> ProofRequest:
        """Decode, or raise JobFormatError."""
        if not data.startswith(REQUEST_MAGIC):
            raise JobFormatError("not a proof request", reason="magic")
        kind, config, payload = _unpack(data[len(REQUEST_MAGIC) :], 3, "proof request")
        return cls(kind.decode(errors="replace"), config.decode(errors="replace"), payload)


@dataclass(frozen=True)
class ProofArtifact:
    """A worker's answer: the proof bytes and the public values (field elements) it proves."""

    proof: bytes
    public_values: tuple[int, ...]

    def to_bytes(self) -> bytes:
        """Encode for storage and transport."""
        publics = struct.pack(f"<{len(self.public_values)}I", *self.public_values)
        return ARTIFACT_MAGIC + _pack(self.proof, publics)

    @classmethod
    def from_bytes(cls, data: bytes) -> ProofArtifact:
        """Decode, or raise JobFormatError."""
        if not data.startswith(ARTIFACT_MAGIC):
            raise JobFormatError("not a proof artifact", reason="magic")
        proof, publics = _unpack(data[len(ARTIFACT_MAGIC) :], 2, "proof artifact")
        if len(publics) % 4:
            raise JobFormatError("public values are not whole u32 words", reason="publics")
        return cls(proof, struct.unpack(f"<{len(publics) // 4}I", publics))


@dataclass(frozen=True)
class ZkvmProgramPayload:
    """One run of an sBPF ELF: the program, its input region, entry registers, budget, heap."""

    elf: bytes
    input: bytes
    registers: tuple[tuple[int, int], ...] = ()  # (register, value) set at entry, e.g. r2
    budget: int = 200_000
    heap_size: int = 32 * 1024

    def to_bytes(self) -> bytes:
        """Encode as a job payload."""
        regs = b"".join(struct.pack("<BQ", r, v) for r, v in self.registers)
        numbers = struct.pack("<QQ", self.budget, self.heap_size)
        return _pack(self.elf, self.input, regs, numbers)

    @classmethod
    def from_bytes(cls, data: bytes) -> ZkvmProgramPayload:
        """Decode, or raise JobFormatError."""
        elf, input_data, regs, numbers = _unpack(data, 4, "zkvm-program payload")
        if len(numbers) != 16 or len(regs) % 9:
            raise JobFormatError("malformed registers, budget or heap size", reason="numbers")
        registers = tuple(struct.iter_unpack("<BQ", regs))
        if any(not 1 <= r <= 9 for r, _ in registers):
            raise JobFormatError("entry registers must be r1..r9", reason="registers")
        budget, heap_size = struct.unpack("<QQ", numbers)
        return cls(elf, input_data, registers, budget, heap_size)


def _zkvm_executable(payload: ZkvmProgramPayload):  # type: ignore[no-untyped-def]
    from heliostat.svm.elf import load_elf
    from heliostat.svm.syscalls.registry import default_registry

    return load_elf(payload.elf, default_registry(), reject_broken_elfs=False)


def _prove_zkvm_program(request: ProofRequest) -> ProofArtifact:
    from solders.pubkey import Pubkey

    from heliostat.stark.config import get_config
    from heliostat.testing import TestHost
    from heliostat.zkvm.execution import execute
    from heliostat.zkvm.prover import prove_execution

    payload = ZkvmProgramPayload.from_bytes(request.payload)
    run = execute(
        _zkvm_executable(payload),
        payload.input,
        budget=payload.budget,
        registers=dict(payload.registers),
        heap_size=payload.heap_size,
        # a standalone run has no transaction around it: the one-instruction host serves its
        # logs and sysvars (a program id of zeros; CPI is refused)
        host=TestHost(Pubkey.default()),
    )
    bundle = prove_execution(run, get_config(request.config))
    return ProofArtifact(bundle.proof.to_bytes(), tuple(bundle.public_values.to_fields()))


def _verify_zkvm_program(request: ProofRequest, artifact: ProofArtifact) -> None:
    try:
        _check_zkvm_program(request, artifact)
    except JobRejectedError:
        raise
    except HeliostatError as err:  # a malformed ELF or payload, an unknown parameter set
        raise JobRejectedError(f"cannot check the proof: {err}", reason="unverifiable") from err


def _check_zkvm_program(request: ProofRequest, artifact: ProofArtifact) -> None:
    from heliostat.stark.config import get_config
    from heliostat.stark.errors import ProofFormatError, VerificationError
    from heliostat.stark.proof import Proof
    from heliostat.stark.verifier import verify
    from heliostat.zkvm import commitment
    from heliostat.zkvm.public_values import index
    from heliostat.zkvm.verifier import zkvm_verifying_key

    # The proof must be about this request: its image and input hashes are recomputed from the
    # payload (the outcome — status, r0, meter — is what the proof establishes).
    payload = ZkvmProgramPayload.from_bytes(request.payload)
    publics = artifact.public_values
    image, _ = commitment.image_commitment(_zkvm_executable(payload))
    inputs, _ = commitment.input_commitment(payload.input, payload.heap_size, payload.budget)
    for name, expected in (("image_hash", image), ("input_hash", inputs)):
        try:
            got = tuple(publics[index(f"{name}_{k}")] for k in range(8))
        except IndexError:
            raise JobRejectedError("too few public values", reason="publics") from None
        if got != tuple(expected):
            raise JobRejectedError(f"the proof's {name} is not the request's", reason=name)
    try:
        vk = zkvm_verifying_key(get_config(request.config))
        verify(vk, Proof.from_bytes(artifact.proof), list(publics))
    except (VerificationError, ProofFormatError) as err:
        raise JobRejectedError(f"worker's proof rejected: {err}", reason="rejected") from err


@dataclass(frozen=True)
class JobKind:
    """How to prove a request of one kind (in a worker) and check the answer (in the service)."""

    prove: Callable[[ProofRequest], ProofArtifact]
    verify: Callable[[ProofRequest, ProofArtifact], None]


def _prove_batch(request: ProofRequest) -> ProofArtifact:
    from heliostat.node.prover_service import batch_job

    return batch_job.prove(request)


def _verify_batch(request: ProofRequest, artifact: ProofArtifact) -> None:
    from heliostat.node.prover_service import batch_job

    batch_job.verify(request, artifact)


KINDS: dict[str, JobKind] = {
    "zkvm-program": JobKind(_prove_zkvm_program, _verify_zkvm_program),
    # a sealed batch with its state witness (batch_job.py), proven by heliostat.runtime.proving
    "batch": JobKind(_prove_batch, _verify_batch),
}


def kind_of(request: ProofRequest) -> JobKind:
    """Return the registered kind of ``request``, or raise JobFormatError."""
    try:
        return KINDS[request.kind]
    except KeyError:
        raise JobFormatError(
            f"unknown job kind {request.kind!r} (known: {', '.join(sorted(KINDS))})", reason="kind"
        ) from None


def run_job(request_bytes: bytes) -> bytes:
    """Prove one encoded request and return the encoded artifact (what a worker runs)."""
    request = ProofRequest.from_bytes(request_bytes)
    return kind_of(request).prove(request).to_bytes()
