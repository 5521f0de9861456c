"""Prove a recorded execution: trace generation, then the STARK prover.

```python
bundle = prove_execution(execute(exe, input_bytes, budget=200_000))
verify(bundle.proof, bundle.public_values)        # heliostat.zkvm.verifier
```
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

from heliostat.stark.config import DEFAULT, StarkConfig
from heliostat.stark.proof import Proof
from heliostat.stark.prover import ProvingKey, prove, setup
from heliostat.zkvm.execution import Execution
from heliostat.zkvm.machine import zkvm_machine
from heliostat.zkvm.public_values import PublicValues
from heliostat.zkvm.trace_gen import MachineTrace, generate


@dataclass
class ProofBundle:
    """A proof, the public values it proves, and figures about it."""

    proof: Proof
    public_values: PublicValues
    rows: dict[str, int]  # unpadded rows per table
    timings: dict[str, float] = field(default_factory=dict)


@functools.cache
def proving_key(config: StarkConfig = DEFAULT) -> ProvingKey:
    """Return the proving key of the zkVM machine under ``config`` (cached)."""
    return setup(zkvm_machine(), config)


def prove_trace(
    trace: MachineTrace, config: StarkConfig = DEFAULT, *, check_constraints: bool = True
) -> ProofBundle:
    """Prove already generated traces. ``check_constraints=False`` is for soundness tests."""
    timings: dict[str, float] = {}
    proof = prove(
        proving_key(config),
        trace.traces,
        trace.public_values.to_fields(),
        check_constraints=check_constraints,
        timings=timings,
    )
    return ProofBundle(proof, trace.public_values, trace.rows, timings)


def prove_execution(execution: Execution, config: StarkConfig = DEFAULT) -> ProofBundle:
    """Generate the traces of ``execution`` and prove them."""
    start = time.perf_counter()
    trace = generate(execution)
    generated = time.perf_counter() - start
    bundle = prove_trace(trace, config)
    bundle.timings["trace generation"] = generated
    return bundle
