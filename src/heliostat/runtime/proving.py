"""Proving a batch: the runtime kernel K run in proving mode, proven by the zkVM, and checked.

```python
proof = prove_batch(runtime, batch, state, tree=tree)      # Runtime.prove_batch calls this
verify_batch(proof, public_output)                          # raises BatchVerificationError
```

The statement is the zkVM's (docs/zkvm.md, "Public values") for one execution of K: K's code
image (fixed: the verifier derives it from the runtime image, so a proof of any other program
is refused), K's read-only input (its commitment travels in the proof bytes: L1 never sees
the input, the kernel checks it against the old root inside the proof), exit status 0, and
the published output, which must be exactly the batch's public output bytes. The output's
head shows K's switches and parameters (its input's flags and a hash of the fee, rent and
sysvar parameters); ``verify_batch`` requires signature checks on and the production
parameters (`production_params_hash`) unless told otherwise, as HeliostatRollup does.

Proof bytes (`BatchProof.proof`): ``"HLSTBPF1"``, then the input-side facts the verifier cannot
derive (input hash: 8 u32, input tree depth, input length, heap size, final pc, compute units
left, r0: u64 each), then the zkVM STARK proof (`heliostat.stark.proof.Proof.to_bytes`).
"""

from __future__ import annotations

import dataclasses
import functools
import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from heliostat.runtime.errors import KernelOutputError, ProvingUnavailableError, RuntimeLayerError
from heliostat.runtime.interface import AccountSource, BatchInput, BatchProof, BatchPublicOutput
from heliostat.runtime.kernel_image import kernel_image
from heliostat.runtime.kernel_input import KernelInput, encode_sysvars
from heliostat.runtime.kernel_output import (
    KERNEL_FLAG_STATE_TREE,
    KERNEL_FLAG_VERIFY_SIGNATURES,
    decode_public_output,
    output_head,
    params_hash,
)
from heliostat.stark.config import DEFAULT, StarkConfig
from heliostat.svm.memory import initial_registers
from heliostat.zkvm import commitment
from heliostat.zkvm.errors import (
    PublicValuesError,
    UnsupportedExecutionError,
    ZkvmVerificationError,
)
from heliostat.zkvm.kernel_execution import PROOF_KERNEL_BUDGET, kernel_execution, unproven_syscalls
from heliostat.zkvm.program_chip import ImageInfo
from heliostat.zkvm.public_values import PublicValues, prefix_of
from heliostat.zkvm.status import Status
from heliostat.zkvm.verifier import verify

if TYPE_CHECKING:
    from heliostat.runtime.runtime import Runtime
    from heliostat.runtime.state_tree import StateTree

MAGIC = b"HLSTBPF1"
_SWITCH = (
    "the batch runs a BPF program: proving it needs the zkVM's kernel-switch chip, "
    "which is not built yet"
)
_FACTS = struct.Struct("<8I6Q")


class BatchProvingError(RuntimeLayerError):
    """The batch cannot be proven: the kernel faulted in proving mode or disagreed with itself."""

    reason = "batch_proving"


class BatchVerificationError(RuntimeLayerError):
    """A batch proof was rejected; ``reason`` says which check failed."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class InputFacts:
    """What the statement says about K's input and end that the verifier cannot derive."""

    input_hash: tuple[int, ...]
    input_depth: int
    input_len: int
    heap_size: int
    final_pc: int
    cu_final: int
    r0: int

    def encode(self) -> bytes:
        """Return the fixed-size encoding that opens the proof bytes."""
        return _FACTS.pack(
            *self.input_hash,
            self.input_depth,
            self.input_len,
            self.heap_size,
            self.final_pc,
            self.cu_final,
            self.r0,
        )

    @staticmethod
    def decode(data: bytes) -> InputFacts:
        """Inverse of `encode` (``data`` is exactly its size)."""
        v = _FACTS.unpack(data)
        return InputFacts(tuple(v[:8]), *v[8:])


def encode_proof(facts: InputFacts, stark_proof: bytes) -> bytes:
    """Return the bytes of a batch proof."""
    return MAGIC + facts.encode() + stark_proof


def decode_proof(data: bytes) -> tuple[InputFacts, bytes]:
    """Split the bytes of a batch proof; raise `BatchVerificationError` when malformed."""
    head = len(MAGIC) + _FACTS.size
    if len(data) <= head or data[: len(MAGIC)] != MAGIC:
        raise BatchVerificationError("not a batch proof", reason="proof_format")
    return InputFacts.decode(data[len(MAGIC) : head]), data[head:]


@functools.cache
def _kernel_image_values() -> dict[str, Any]:
    """Return the image part of every batch statement: the runtime kernel's (cached)."""
    exe = kernel_image().executable
    info = ImageInfo.of(exe)
    image_hash, image_depth = commitment.image_commitment(exe)
    return {
        "entry_pc": exe.entry_pc,
        "text_start": info.text_start,
        "text_len": info.text_len,
        "ro_len": info.ro_len,
        "image_hash": image_hash,
        "image_depth": image_depth,
    }


def kernel_image_hash() -> tuple[int, ...]:
    """Return the runtime kernel's code-image hash (8 BabyBear elements) that proofs pin."""
    return tuple(_kernel_image_values()["image_hash"])


def statement(facts: InputFacts, published: bytes) -> PublicValues:
    """Return the zkVM public values of K's run that published ``published``."""
    output_hash, output_depth = commitment.output_commitment(published)
    return PublicValues(
        **_kernel_image_values(),
        budget=PROOF_KERNEL_BUDGET,
        heap_size=facts.heap_size,
        input_len=facts.input_len,
        registers=tuple(initial_registers(None)),
        status=Status.EXITED,
        final_pc=facts.final_pc,
        cu_final=facts.cu_final,
        r0=facts.r0,
        input_hash=facts.input_hash,
        input_depth=facts.input_depth,
        output_hash=output_hash,
        output_depth=output_depth,
        output_len=len(published),
        output_prefix=prefix_of(published),  # keccak256 of the head: L1's output hash
        input_read_only=True,
    )


@functools.cache
def production_params_hash() -> bytes:
    """Return the parameters hash K publishes with the default `RuntimeConfig` (production).

    HeliostatRollup.RUNTIME_PARAMS_HASH holds the same value (a test keeps them equal).
    """
    from heliostat.runtime import genesis
    from heliostat.runtime.runtime import RuntimeConfig
    from heliostat.svm.syscalls.sysvars import RENT

    config = RuntimeConfig()
    table = config.sysvar_table()
    rent = genesis.rent_per_byte(dict(table)[RENT])
    return params_hash(config.lamports_per_signature, rent, encode_sysvars(tuple(table)))


def check_kernel_mode(
    public_output: BatchPublicOutput,
    *,
    allow_test_mode: bool = False,
    expected_params_hash: bytes | None = None,
) -> None:
    """Refuse an output run in a test mode or with other parameters, as HeliostatRollup does.

    Test modes: signature checks off, no state tree; ``allow_test_mode`` accepts them (tests
    only). ``expected_params_hash`` replaces the production parameters hash (a runtime built
    with another `RuntimeConfig`).
    """
    try:
        head = output_head(public_output.encoded)
    except KernelOutputError as err:
        raise BatchVerificationError(f"public output head: {err}", reason="head") from err
    known = KERNEL_FLAG_VERIFY_SIGNATURES | KERNEL_FLAG_STATE_TREE
    if head.kernel_flags & ~known:
        raise BatchVerificationError(
            f"unknown kernel flags {head.kernel_flags:#x}", reason="kernel_flags"
        )
    if not head.kernel_flags & KERNEL_FLAG_VERIFY_SIGNATURES and not allow_test_mode:
        raise BatchVerificationError(
            "the batch ran with signature checks off (test mode)", reason="signatures_off"
        )
    if not head.kernel_flags & KERNEL_FLAG_STATE_TREE and not allow_test_mode:
        raise BatchVerificationError(
            "the batch ran without the state tree: nothing it read was checked against the old "
            "root and it published no new root (test mode)",
            reason="state_tree_off",
        )
    expected = production_params_hash() if expected_params_hash is None else expected_params_hash
    if head.params_hash != expected:
        raise BatchVerificationError(
            f"the batch ran with other parameters: hash {head.params_hash.hex()}, "
            f"expected {expected.hex()}",
            reason="parameters",
        )


def verify_batch(
    proof: BatchProof | bytes,
    public_output: BatchPublicOutput,
    config: StarkConfig = DEFAULT,
    *,
    allow_test_mode: bool = False,
    expected_params_hash: bytes | None = None,
) -> None:
    """Accept a proof that the runtime kernel published exactly ``public_output``, or raise.

    ``proof`` is a `BatchProof` or just its proof bytes (then claimed for ``public_output``).
    The output must show signature checks on and the production parameters
    (`check_kernel_mode`; ``allow_test_mode`` accepts the signature-off mode of tests).
    """
    if isinstance(proof, bytes):
        proof = BatchProof(public_output, proof)
    if proof.public_output.encoded != public_output.encoded:
        raise BatchVerificationError(
            "the proof is for another public output", reason="public_output"
        )
    check_kernel_mode(
        public_output, allow_test_mode=allow_test_mode, expected_params_hash=expected_params_hash
    )
    facts, stark_proof = decode_proof(proof.proof)
    try:
        values = statement(facts, public_output.encoded)
        verify(stark_proof, values, config)
    except PublicValuesError as err:
        raise BatchVerificationError(f"bad statement: {err}", reason="statement") from err
    except ZkvmVerificationError as err:
        raise BatchVerificationError(f"proof rejected: {err}", reason=err.reason) from err


# --- proving ---------------------------------------------------------------------------------


def prove_batch(
    runtime: Runtime,
    batch: BatchInput,
    state: AccountSource,
    *,
    tree: StateTree | None = None,
    config: StarkConfig = DEFAULT,
    verify_signatures: bool = True,
    figures: dict[str, Any] | None = None,
) -> BatchProof:
    """Run ``batch`` in proving mode and prove it.

    ``verify_signatures=False`` runs the kernel's signature-off mode: for tests only (the
    output's head shows it; `verify_batch` and L1 refuse it).
    """
    from heliostat.runtime.runtime import TreeState

    if tree is not None:
        state = TreeState(tree)
    kin = runtime.batch_input(batch, state, tree=tree)
    if not verify_signatures:
        kin = dataclasses.replace(kin, verify_signatures=False)
    return prove_kernel_input(runtime, kin, config=config, figures=figures)


def prove_kernel_input(
    runtime: Runtime,
    kin: KernelInput,
    *,
    config: StarkConfig = DEFAULT,
    figures: dict[str, Any] | None = None,
) -> BatchProof:
    """Prove K's run over a kernel input (the same run `Runtime.run` makes natively)."""
    from heliostat.runtime.errors import KernelFaultError
    from heliostat.runtime.runtime import MAX_KERNEL_HEAP
    from heliostat.zkvm.prover import prove_execution

    start = time.perf_counter()
    try:
        native = runtime.run(kin)
    except KernelFaultError as err:
        raise BatchProvingError(f"the batch cannot be proven: {err}") from err
    if native.result.activations:  # known from the native run: no traced run needed
        raise ProvingUnavailableError(_SWITCH)
    kernel = runtime.kernel.for_mode(jets=False)
    while True:
        try:
            run = kernel_execution(kernel, kin.encode(), kin.heap_size(), runtime.images.resolve)
            break
        except UnsupportedExecutionError as err:
            if "entered programs" in str(err):
                raise ProvingUnavailableError(_SWITCH) from err
            if "faulted" in str(err) and kin.heap_size() < MAX_KERNEL_HEAP:
                kin = dataclasses.replace(kin, scale=kin.scale * 2)  # as Runtime.run retries
                continue
            raise BatchProvingError(f"the kernel cannot be proven: {err}") from err
    if run.result.published != native.published:
        raise BatchProvingError("proving mode published other bytes than native mode")
    missing = unproven_syscalls(run.execution)
    if missing:
        raise ProvingUnavailableError(f"no zkVM chip proves the syscalls {missing}")
    executed = time.perf_counter()
    bundle = prove_execution(run.execution, config)
    pv = bundle.public_values
    facts = InputFacts(
        tuple(pv.input_hash), pv.input_depth, pv.input_len, pv.heap_size, pv.final_pc,
        pv.cu_final, pv.r0,
    )  # fmt: skip
    if statement(facts, native.published) != pv:
        raise BatchProvingError("the proven statement is not the batch's")
    if figures is not None:
        figures.update(
            rows=dict(bundle.rows),
            kernel_rows=run.execution.result.instruction_count,
            run_s=executed - start,
            prove_s=time.perf_counter() - executed,
            timings=dict(bundle.timings),
        )
    return BatchProof(
        decode_public_output(native.published), encode_proof(facts, bundle.proof.to_bytes())
    )
