"""StarkBatchVerifier's side in Python: its constructor arguments and a batch proof's facts.

The contract (contracts/src/rollup/StarkBatchVerifier.sol) rebuilds the zkVM statement of a
batch from three parts: a template of what every batch's statement says (the runtime kernel's
code image, the proof budget, the initial registers, status EXITED, a read-only input, a
shown output prefix), the batch's output hash (the prefix), and the `Facts` only the proof
fixes. `constructor_args` computes the template and the field positions from
heliostat.zkvm.public_values, so the contract and `heliostat.runtime.proving.statement` can
only disagree if the layout changes under a deployed contract; `facts_bytes` encodes a batch
proof's facts as `proveBatch` passes them to `verifyBatch`.
"""

from __future__ import annotations

from typing import Any

from eth_abi.abi import encode

from heliostat.runtime.proving import InputFacts, statement
from heliostat.zkvm import commitment
from heliostat.zkvm import public_values as pv

FACTS_TYPE = "(uint32[8],uint64,uint64,uint64,uint64,uint64,uint64,uint32[8],uint64,uint64)"
# Positions, in the contract's order: the first field of each run
_POSITIONS = (
    "input_hash_0",
    "input_depth",
    "heap_size",
    "input_last",
    "input_tail",
    "final_pc",
    "cu_final",
    "r0_0",
    "output_hash_0",
    "output_depth",
    "output_len_0",
    "output_last",
    "out_prefix_0",
)
# the fields a batch fills in (the rest is the template)
_FREE = (
    [f"input_hash_{k}" for k in range(8)]
    + ["input_depth", "heap_size", "input_last", "input_tail", "final_pc", "cu_final"]
    + [f"r0_{k}" for k in range(4)]
    + [f"output_hash_{k}" for k in range(8)]
    + ["output_depth", "output_len_0", "output_len_1", "output_last"]
    + [f"out_prefix_{j}" for j in range(16)]
)


def constructor_args() -> tuple[list[int], tuple[int, ...]]:
    """Return StarkBatchVerifier's template statement and field positions (the kernel's)."""
    placeholder = InputFacts((0,) * 8, 1, 0, 0, 0, 0, 0)
    template = statement(placeholder, bytes(pv.PREFIX_BYTES)).to_fields()
    for name in _FREE:
        template[pv.index(name)] = 0
    return template, tuple(pv.index(name) for name in _POSITIONS)


def facts_bytes(facts: InputFacts, published: bytes) -> bytes:
    """Return abi.encode(Facts) of a batch proof whose kernel run published ``published``."""
    output_hash, output_depth = commitment.output_commitment(published)
    value: tuple[Any, ...] = (
        list(facts.input_hash),
        facts.input_depth,
        facts.input_len,
        facts.heap_size,
        facts.final_pc,
        facts.cu_final,
        facts.r0,
        list(output_hash),
        output_depth,
        len(published),
    )
    return encode([FACTS_TYPE], [value])
