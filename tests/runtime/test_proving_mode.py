"""Proving mode: the same kernel bytes without jets, traced; the same output as native."""

from __future__ import annotations

from heliostat.runtime.runtime import Runtime
from heliostat.runtime.sample_batch import sample_batch, sample_world


def test_traced_run_matches_native() -> None:
    world = sample_world(6)
    batch = sample_batch(world, 4)
    runtime = Runtime()
    kin = runtime.batch_input(batch, world.state)
    native = runtime.run(kin)
    traced = runtime.run(kin, trace=True)
    assert traced.published == native.published
    trace = traced.result.trace
    assert trace is not None
    # every SPL transfer ran SPL Token in an activation; each switch is in K's trace
    spl = [a for a in trace.activations if a.trace is not None and len(a.trace) > 0]
    assert spl and all(a.depth == 1 for a in spl)
    assert len(trace.kernel) == traced.result.execution.instruction_count
    assert {s.activation for s in trace.switches} == {a.activation for a in trace.activations}
    # the real ed25519 code ran (no jet): at least ~800k rows per signature
    assert len(trace.kernel) > 800_000 * len(native.receipts)
