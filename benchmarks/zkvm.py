"""zkVM benchmarks: proven sBPF cycles per second, one SPL Token transfer, proof size.

Run: .venv/bin/python benchmarks/zkvm.py [--log-cycles 20] [--quick]

1. A program of about 2^log_cycles executed instructions (the toolchain's compute_heavy C
   program: xorshift mixing over a stack table, its iteration count chosen to reach the size)
   is run in proving mode, its traces generated and proven with the default STARK parameters.
   A small proof runs first so that one-time costs (numba caches, first-touch memory) are not
   counted. Figures: trace generation, proving, cycles per second, proof size, committed
   cells per cycle.
2. One SPL Token transfer (p-token from the ELF inside solders' LiteSVM): its own rows, every
   table's rows, proving time and proof size (default parameters).
3. The same kind of transfer run by the runtime (kernel K enters SPL Token; signatures off):
   K's rows, the program's rows, the switches. Its proof needs the switch chip, which is not
   built yet (docs/zkvm.md, "Kernel runs"): prove seconds and proof bytes print as null.
Prints readable lines, then exactly one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "zkvm"))

from real_programs import run_c, run_spl

from heliostat.stark.clear import clear_tables
from heliostat.stark.config import DEFAULT
from heliostat.stark.proof import Proof
from heliostat.zkvm.machine import zkvm_machine
from heliostat.zkvm.prover import prove_trace
from heliostat.zkvm.trace_gen import MachineTrace, generate
from heliostat.zkvm.verifier import verify

CYCLES_PER_ITERATION = 33  # compute_heavy's loop body (the toolchain note measures it)


def say(line: str) -> None:
    print(line, flush=True)


def committed_cells(trace: MachineTrace) -> int:
    """Σ over tables of height × (main + 4·permutation + 4·quotient columns)."""
    total = 0
    for table, t in zip(zkvm_machine().tables, trace.traces, strict=True):
        width = table.width + 4 * table.permutation_width + 4 * (table.max_degree - 1)
        total += t.shape[0] * width
    return total


def instruction_rows(trace: MachineTrace) -> int:
    """Rows of the instruction chips (one per executed instruction)."""
    bookkeeping = {"u16", "program", "memory_boundary", "keep_alive", "input", "frame_boundary",
                   "merkle", "commitment", "poseidon2"}  # fmt: skip
    return sum(n for name, n in trace.rows.items() if name not in bookkeeping)


def prove_timed(trace: MachineTrace) -> tuple[float, int, dict[str, float], Proof]:
    start = time.perf_counter()
    bundle = prove_trace(trace, DEFAULT)
    seconds = time.perf_counter() - start
    verify(bundle.proof, bundle.public_values, DEFAULT)
    return seconds, len(bundle.proof.to_bytes()), bundle.timings, bundle.proof


def table_forms(proof: Proof) -> tuple[list[str], list[str]]:
    """The tables the proof leaves out and those it sends in the clear."""
    machine = zkvm_machine()
    absent = [t.name for t, h in zip(machine.tables, proof.log_heights, strict=True) if h == 0]
    clear = [machine.tables[t].name for t in clear_tables(machine, proof.log_heights, DEFAULT)]
    return absent, clear


def section_cycles(log_cycles: int) -> dict[str, float]:
    say("warm-up proof (not counted)")
    prove_timed(generate(run_c("compute_heavy", (200).to_bytes(8, "little"))))
    iterations = (1 << log_cycles) // CYCLES_PER_ITERATION
    ex = run_c("compute_heavy", iterations.to_bytes(8, "little"), budget=1 << 29)
    cycles = ex.result.instruction_count
    start = time.perf_counter()
    trace = generate(ex)
    gen = time.perf_counter() - start
    seconds, size, timings, _ = prove_timed(trace)
    cells = committed_cells(trace)
    say(f"compute_heavy: {cycles} cycles (2^{log_cycles} asked), status "
        f"{trace.public_values.status.name}")  # fmt: skip
    say(f"  trace generation   {gen:8.2f} s   ({cycles / gen / 1e6:.2f} M cycles/s)")
    say(f"  prove (default)    {seconds:8.2f} s   ({cycles / seconds:,.0f} proven cycles/s)")
    say(f"  proof size         {size:8d} bytes ({size / 1024:.1f} KiB)")
    say(f"  committed cells    {cells / cycles:8.1f} per cycle")
    say("  prover phases      " + ", ".join(f"{k} {v:.2f}" for k, v in timings.items()))
    return {
        "cycles": cycles,
        "tracegen_s": round(gen, 3),
        "prove_s": round(seconds, 3),
        "proven_cycles_per_s": round(cycles / seconds),
        "proof_bytes": size,
        "committed_cells_per_cycle": round(cells / cycles, 1),
    }


def section_transfer() -> dict[str, float]:
    ex = run_spl("transfer")
    start = time.perf_counter()
    trace = generate(ex)
    gen = time.perf_counter() - start
    seconds, size, _, proof = prove_timed(trace)
    own = instruction_rows(trace)
    absent, clear = table_forms(proof)
    say(f"SPL Token transfer: {ex.result.instruction_count} instructions, "
        f"{ex.result.compute_units_consumed} CU")  # fmt: skip
    say(f"  instruction rows   {own}")
    say("  table rows         " + ", ".join(f"{k} {v}" for k, v in trace.rows.items() if v))
    say(f"  trace generation   {gen:8.3f} s")
    say(f"  prove (default)    {seconds:8.2f} s")
    say(f"  proof size         {size:8d} bytes ({size / 1024:.1f} KiB)")
    say(f"  tables left out    {', '.join(absent) or '-'}")
    say(f"  tables in clear    {', '.join(clear) or '-'}")
    return {
        "transfer_instructions": ex.result.instruction_count,
        "transfer_instruction_rows": own,
        "transfer_total_rows": sum(trace.rows.values()),
        "transfer_prove_s": round(seconds, 3),
        "transfer_proof_bytes": size,
        "transfer_tables_absent": len(absent),
        "transfer_tables_clear": len(clear),
    }


def section_runtime_spl() -> dict[str, float | int | None]:
    from heliostat.runtime.runtime import Runtime
    from heliostat.runtime.sample_batch import sample_world

    world = sample_world(3)
    tx = world.spl_transfer(world.users[0], world.users[1], 5)
    runtime = Runtime()
    kin = world.kernel_input(runtime, [tx])
    trace = runtime.run(kin, trace=True).result.trace
    assert trace is not None
    program_rows = sum(len(a.trace) for a in trace.activations if a.trace is not None)
    say("SPL Token transfer through the runtime (signatures off):")
    say(f"  K rows             {len(trace.kernel)}")
    say(f"  program rows       {program_rows} in {len(trace.activations)} activation(s)")
    say(f"  switches           {len(trace.switches)} (enter/resume calls of K)")
    say("  prove              not yet: the switch chip is not built (docs/zkvm.md)")
    return {
        "runtime_spl_kernel_rows": len(trace.kernel),
        "runtime_spl_program_rows": program_rows,
        "runtime_spl_switches": len(trace.switches),
        "runtime_spl_prove_s": None,
        "runtime_spl_proof_bytes": None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-cycles", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="2^16 cycles instead")
    args = parser.parse_args()
    log_cycles = 16 if args.quick else args.log_cycles
    figures: dict[str, float | int | None] = {}
    figures.update(section_transfer())
    figures.update(section_runtime_spl())
    figures.update(section_cycles(log_cycles))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
