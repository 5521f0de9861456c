"""Runtime benchmarks: native throughput next to LiteSVM's, proving cost per transaction, ed25519.

Run: .venv/bin/python benchmarks/runtime.py [--quick]
Native throughput: SOL and SPL transfers through the runtime image on the VM (jets on), many
per kernel run (a block) and one per run (the sequencer's path), against LiteSVM's
send_transaction with signature verification on, measured in the same process, interleaved,
best of several rounds. Proving cost: the same transactions run in proving mode (no jets,
traced, against the Poseidon2 state tree): trace rows per transaction, the share of rows spent
verifying signatures (a run without signature checks gives the difference) and on the state
tree (a run without the tree gives it), and the seconds to produce the trace. Proving:
`Runtime.prove_batch` on a batch of SOL transfers (K alone, no BPF program) with the default
STARK parameters, with signature verification (the real C ed25519, ~806k rows) and without;
SPL transfers need the kernel switch (null).
The ed25519 section is the C verifier's instruction counts (folded in from the ed25519
engineer's benchmark). Prints readable lines, then one JSON line.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable
from types import ModuleType

from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.transaction import VersionedTransaction

from _state_tree_figures import state_tree_figures  # benchmarks/ is on sys.path
from heliostat.primitives import ed25519
from heliostat.runtime.interface import BlockContext
from heliostat.runtime.kernel_input import KernelBlock
from heliostat.runtime.runtime import Runtime, TreeState
from heliostat.runtime.sample_batch import SampleWorld, sample_world
from heliostat.runtime.state_tree import StateTree
from heliostat.svm.kernel_jets import ed25519_verify
from heliostat.svm.memory import MM_INPUT_START, MemoryMap
from heliostat.svm.syscall_api import SyscallContext
from heliostat.testing.ed25519_sbpf import LIB_DIR, internals_runner, verify_data, verify_runner

QUICK = "--quick" in sys.argv
N = 100 if QUICK else 300
ROUNDS = 2 if QUICK else 3


def say(line: str) -> None:
    print(line, flush=True)


def best(fn: Callable[[], object], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


# ---------------------------------------------------------------------------------------------
# Native throughput


def litesvm_for(world: SampleWorld) -> LiteSVM:
    """A LiteSVM holding the world's users, mint and token accounts."""
    svm = LiteSVM()
    for key, account in world.state.accounts.items():
        if not account.executable and svm.get_account(key) is None:
            svm.set_account(key, account)
    return svm


def transfers(world: SampleWorld, kind: str, salt: int) -> list[bytes]:
    users = world.users
    if kind == "sol":
        return [world.sol_transfer(users[i], users[(i + 1) % N].pubkey(), 5000 + i + salt)
                for i in range(N)]  # fmt: skip
    return [world.spl_transfer(users[i], users[(i + 1) % N], 5 + i + salt) for i in range(N)]


def throughput(runtime: Runtime, kind: str) -> dict[str, float]:
    """TPS of one kind of transfer: batched, one per kernel run, LiteSVM."""
    results: dict[str, list[float]] = {"batched": [], "single": [], "litesvm": []}
    for round_ in range(ROUNDS):
        svm = litesvm_for(sample_world(N))
        world = sample_world(N, blockhash=svm.latest_blockhash())
        txs = transfers(world, kind, 1000 * round_)
        block = BlockContext(1, 0, frozenset([world.blockhash]))
        start = time.perf_counter()
        outcomes = runtime.execute(txs, world.state, block)
        results["batched"].append(N / (time.perf_counter() - start))
        if not all(o.succeeded for o in outcomes):
            raise RuntimeError(f"{kind} transfer failed: {outcomes[0].err}")
        single = txs[: N // 3]
        start = time.perf_counter()
        for tx in single:
            runtime.execute([tx], world.state, block)
        results["single"].append(len(single) / (time.perf_counter() - start))
        parsed = [VersionedTransaction.from_bytes(tx) for tx in txs]
        start = time.perf_counter()
        for tx in parsed:
            svm.send_transaction(tx)
        results["litesvm"].append(N / (time.perf_counter() - start))
    figures: dict[str, float] = {
        f"{kind}_{name}_tps": round(max(values)) for name, values in results.items()
    }
    ratio = figures[f"{kind}_batched_tps"] / figures[f"{kind}_litesvm_tps"]
    batched, single = figures[f"{kind}_batched_tps"], figures[f"{kind}_single_tps"]
    say(
        f"{kind.upper()} transfers: Heliostat {batched:7,} tx/s in blocks of {N}, "
        f"{single:7,} tx/s one per run; LiteSVM {figures[f'{kind}_litesvm_tps']:7,} tx/s "
        f"(blocks/LiteSVM = {ratio:.2f}x)"
    )
    figures[f"{kind}_batched_vs_litesvm_x"] = round(ratio, 3)
    return figures


# ---------------------------------------------------------------------------------------------
# Proving cost


def proving_cost(runtime: Runtime, kind: str, n: int = 4) -> dict[str, float | None]:
    """Trace rows per transaction in proving mode, and where they go."""
    world = sample_world(n + 1)
    users = world.users
    if kind == "sol":
        txs = [world.sol_transfer(users[i], users[i + 1].pubkey(), 7) for i in range(n)]
    else:
        txs = [world.spl_transfer(users[i], users[i + 1], 7) for i in range(n)]
    block = KernelBlock(1, bytes(40), [bytes(world.blockhash)], txs)
    tree = StateTree.from_accounts(world.state.accounts)

    def rows(verify: bool, with_tree: bool) -> tuple[int, int, float]:
        kin = runtime.kernel_input(
            batch_number=0, old_root=tree.root(), priority=(), blocks=[block],
            state=TreeState(tree) if with_tree else world.state, verify_signatures=verify,
            processed=[], tree=tree if with_tree else None,
        )  # fmt: skip
        start = time.perf_counter()
        run = runtime.run(kin, trace=True)
        seconds = time.perf_counter() - start
        trace = run.result.trace
        assert trace is not None
        programs = sum(len(a.trace) for a in trace.activations if a.trace is not None)
        return len(trace.kernel), programs, seconds

    kernel, programs, seconds = rows(True, True)
    unsigned, _, _ = rows(False, True)
    treeless, _, _ = rows(True, False)
    total = kernel + programs
    figures: dict[str, float | None] = {
        f"{kind}_proving_rows_per_tx": round(total / n),
        f"{kind}_program_rows_per_tx": round(programs / n),
        f"{kind}_signature_share": round((kernel - unsigned) / total, 4),
        f"{kind}_state_tree_share": round((kernel - treeless) / total, 4),
        f"{kind}_trace_s_per_tx": round(seconds / n, 4),
    }
    signatures, state = 100 * (kernel - unsigned) / total, 100 * (kernel - treeless) / total
    say(
        f"{kind.upper()} transfer, proving mode: {total / n:11,.0f} trace rows/tx "
        f"({programs / n:,.0f} in the program), signatures {signatures:.1f}%, state tree "
        f"{state:.1f}% (batch of {n}), trace {seconds / n * 1e3:.0f} ms/tx"
    )
    return figures


def batch_proving(runtime: Runtime, n: int = 4) -> dict[str, float | None]:
    """Prove batches of SOL transfers (default parameters): seconds, rows and bytes per tx."""
    from heliostat.runtime.interface import BatchInput, Block
    from heliostat.runtime.proving import prove_batch, verify_batch

    world = sample_world(n + 1)
    users = world.users
    tree = StateTree.from_accounts(world.state.accounts)
    context = BlockContext(10, 1_700_000_000, frozenset([world.blockhash]))

    def prove(count: int, verify: bool) -> tuple[dict[str, object], int]:
        txs = tuple(world.sol_transfer(users[i], users[i + 1].pubkey(), 7) for i in range(count))
        batch = BatchInput(1, tree.root(), (), (Block(context, txs),))
        figures: dict[str, object] = {}
        proof = prove_batch(
            runtime, batch, TreeState(tree), tree=tree, verify_signatures=verify, figures=figures
        )
        verify_batch(proof, proof.public_output, allow_test_mode=not verify)
        return figures, len(proof.proof)

    out: dict[str, float | None] = {}
    for verify, count in ((False, n), (True, 1)):
        figures, size = prove(count, verify)
        rows = figures["rows"]
        assert isinstance(rows, dict)
        total = sum(rows.values()) - rows.get("u16", 0)
        kernel_rows = figures["kernel_rows"]
        assert isinstance(kernel_rows, int)
        seconds = figures["prove_s"]
        assert isinstance(seconds, float)
        key = "sol" if verify else "sol_unsigned"
        out[f"{key}_prove_s_per_tx"] = round(seconds / count, 2)
        out[f"{key}_proven_kernel_rows_per_tx"] = round(kernel_rows / count)
        out[f"{key}_table_rows_per_tx"] = round(total / count)
        out[f"{key}_batch_proof_bytes"] = size
        say(
            f"SOL transfer, proven ({'signatures verified' if verify else 'signatures off'}, "
            f"batch of {count}): {seconds / count:.2f} s/tx to prove, {kernel_rows / count:,.0f} "
            f"kernel instructions/tx ({total / count:,.0f} table rows), "
            f"{kernel_rows / seconds:,.0f} proven instructions/s, proof {size:,} bytes"
        )
    out["spl_prove_s_per_tx"] = None  # needs the kernel switch
    return out


# ---------------------------------------------------------------------------------------------
# ed25519 (the C verifier the kernel links; folded in from benchmarks/ed25519.py)


def ed25519_figures() -> dict[str, float]:
    figures: dict[str, float] = {}
    keys = 4 if QUICK else 16
    for length in (100, 1024):
        counts = []
        for i in range(keys):
            keypair = Keypair.from_seed(bytes([i + 1]) * 32)
            message = bytes((j * 13 + i) % 256 for j in range(length))
            signature = bytes(keypair.sign_message(message))
            run = verify_runner().run(verify_data(signature, bytes(keypair.pubkey()), message))
            if run.error is not None:
                raise RuntimeError(f"verification failed: {run.error}")
            counts.append(run.compute_units)
        figures[f"ed25519_verify_{length}b_instructions"] = round(statistics.mean(counts))
        say(f"ed25519 verify, {length:4d}-byte message: {statistics.mean(counts):10,.0f} sBPF "
            f"instructions (= proven rows; min {min(counts):,}, max {max(counts):,})")  # fmt: skip
    lengths = _generator("gen_field_asm").kernel_lengths()
    runner = internals_runner()

    def op_cost(op: int, operands: bytes) -> int:
        twice = runner.run(bytes([op, 2]) + operands).compute_units
        return twice - runner.run(bytes([op, 1]) + operands).compute_units

    a = (ed25519.P - 12345).to_bytes(32, "little")
    figures |= {
        "ed25519_fe_mul_instructions": lengths["fe25519_mul_distinct"],
        "ed25519_fe_sq_instructions": lengths["fe25519_sq_distinct"],
        "ed25519_sha512_block_instructions": op_cost(7, bytes(228)) - op_cost(7, bytes(100)),
        "ed25519_fe_invert_instructions": op_cost(2, a),
    }
    say(f"ed25519 pieces: field mul {lengths['fe25519_mul_distinct']}, square "
        f"{lengths['fe25519_sq_distinct']}, SHA-512 block "
        f"{figures['ed25519_sha512_block_instructions']:,}, inversion "
        f"{figures['ed25519_fe_invert_instructions']:,} instructions")  # fmt: skip
    keypair = Keypair.from_seed(bytes(32))
    message = bytes(100)
    data = bytes(keypair.sign_message(message)) + bytes(keypair.pubkey()) + message
    ctx = SyscallContext(MemoryMap(b"", data), None, 0)
    base = MM_INPUT_START
    runs = 200
    jet = best(
        lambda: [ed25519_verify(ctx, base, base + 64, base + 96, 100, 0) for _ in range(runs)]
    )
    reference = best(lambda: ed25519.verify(data[:64], data[64:96], message), rounds=3)
    figures["ed25519_jet_verify_us"] = round(jet / runs * 1e6, 1)
    figures["ed25519_reference_verify_ms"] = round(reference * 1e3, 2)
    say(f"ed25519 jet (native mode): {jet / runs * 1e6:.1f} us per verification; Python "
        f"reference {reference * 1e3:.1f} ms")  # fmt: skip
    return figures


def _generator(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, LIB_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    runtime = Runtime()
    warm = sample_world(2)
    runtime.execute([warm.spl_transfer(warm.users[0], warm.users[1], 1)], warm.state,
                    BlockContext(1, 0, frozenset([warm.blockhash])))  # fmt: skip
    results: dict[str, object] = {}
    results |= throughput(runtime, "sol")
    results |= throughput(runtime, "spl")
    results |= proving_cost(runtime, "sol")
    results |= proving_cost(runtime, "spl")
    results |= batch_proving(runtime)
    results |= ed25519_figures()
    results |= state_tree_figures()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
