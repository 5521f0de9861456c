"""Gas and calldata of verifying Heliostat STARK proofs on a local Ethereum chain (anvil).

For each example machine (Fibonacci, range counter, two-table lookup) and for the synthetic
benchmark AIR (2^20 rows x 100 columns unless ``--log-rows``/``--cols`` say otherwise; its
proof is cached under build/settlement/bench/), under the default parameters: the proof's
bytes, then the transactions that verify it — one if the proof fits Ethereum's limits (2^24
gas, 128 KiB of calldata per transaction), several otherwise — with gas and calldata each.

Then a real runtime batch (an L1 deposit, run against the state tree) proven by the zkVM and
verified on a chain without Ethereum's per-transaction limits, as the devnet does: its proof
bytes, transactions and gas (docs/settlement.md, "Known gaps", says which limits it passes).

Run: .venv/bin/python benchmarks/settlement.py [--log-rows 20 --cols 100 | --quick]
The last line is JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import time
from typing import Any

import numpy as np
from solders.keypair import Keypair
from web3 import Web3
from web3.types import RPCEndpoint, TxParams, Wei

from heliostat.runtime import state_tree
from heliostat.runtime.hashing import keccak256
from heliostat.runtime.kernel_output import (
    DIFF_CHUNK_BYTES,
    KERNEL_FLAG_STATE_TREE,
    KERNEL_FLAG_VERIFY_SIGNATURES,
    diff_chunks,
)
from heliostat.runtime.state_tree import AccountValue, StateTree
from heliostat.settlement import rollup
from heliostat.settlement.anvil import TX_GAS_CAP, Anvil
from heliostat.settlement.errors import SettlementError
from heliostat.settlement.stark_verifier import (
    MAX_TX_CALLDATA,
    OnChainVerifier,
    VerificationReport,
)
from heliostat.settlement.toolchain import BUILD_DIR
from heliostat.settlement.verifier_gen.generator import generate_verifier
from heliostat.stark.air import compile_machine
from heliostat.stark.config import DEFAULT
from heliostat.stark.examples import fibonacci, lookup, range_counter, synthetic
from heliostat.stark.proof import VERSION
from heliostat.stark.prover import ProvingKey, prove, setup


def _examples() -> list[tuple[str, ProvingKey, list[np.ndarray], list[int]]]:
    fib_trace, fib_publics = fibonacci.generate_trace(10)
    counter_trace, counter_publics = range_counter.generate_trace(range_counter.BITS)
    reader, counts = lookup.generate_traces(12, np.random.default_rng(7))
    return [
        (
            "Fibonacci",
            setup(
                compile_machine([fibonacci.FibonacciAir()], fibonacci.NUM_PUBLIC_VALUES), DEFAULT
            ),
            [fib_trace],
            fib_publics,
        ),
        (
            "RangeCounter",
            setup(
                compile_machine([range_counter.RangeCounterAir()], range_counter.NUM_PUBLIC_VALUES),
                DEFAULT,
            ),
            [counter_trace],
            counter_publics,
        ),
        (
            "Lookup",
            setup(compile_machine([lookup.ReaderAir(), lookup.ByteTableAir()]), DEFAULT),
            [reader, counts],
            [],
        ),
    ]


def _synthetic_proof(log_rows: int, cols: int) -> tuple[ProvingKey, bytes]:
    """The synthetic AIR's proof, proven once and cached by machine, parameters, format."""
    pk = setup(compile_machine([synthetic.SyntheticAir(cols)]), DEFAULT)
    tag = pk.vk.machine.digest + pk.vk.config.to_bytes() + f"{VERSION}/{log_rows}".encode()
    key = hashlib.sha256(tag).hexdigest()
    path = BUILD_DIR / "bench" / f"synthetic-{log_rows}x{cols}-{key[:16]}.proof"
    if path.exists():
        return pk, path.read_bytes()
    trace = synthetic.generate_trace(log_rows, cols, np.random.default_rng(1))
    started = time.perf_counter()
    data = prove(pk, [trace], []).to_bytes()
    print(f"  proved synthetic 2^{log_rows} x {cols} in {time.perf_counter() - started:.1f} s")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return pk, data


def _verify(onchain: OnChainVerifier, data: bytes, publics: list[int]) -> VerificationReport:
    """One transaction if it fits, else a session over several."""
    try:
        if len(data) < MAX_TX_CALLDATA - 4096:
            return onchain.verify_in_one(data, publics)
    except SettlementError as err:
        print(f"  one transaction does not fit ({err.reason}): splitting")
    return onchain.verify_in_steps(data, publics)


def _show(name: str, data: bytes, report: VerificationReport) -> dict[str, object]:
    print(f"{name}: proof {len(data):,} bytes, {len(report.transactions)} transaction(s)")
    for tx in report.transactions:
        share = 100 * tx.gas_used / TX_GAS_CAP
        print(
            f"  {tx.step:22s} {tx.sections:32s} {tx.calldata_bytes:>8,} B "
            f"{tx.gas_used:>11,} gas ({share:.0f}% of the 2^24 cap)"
        )
    print(f"  total {report.total_calldata:,} B calldata, {report.total_gas:,} gas")
    return {
        "proof_bytes": len(data),
        "tx_count": len(report.transactions),
        "total_gas": report.total_gas,
        "max_tx_gas": max(t.gas_used for t in report.transactions),
        "calldata_bytes": report.total_calldata,
    }


def _state_diff(accounts: int, rng: np.random.Generator) -> bytes:
    """An encoded state diff (docs/runtime.md) of ``accounts`` system accounts without data."""
    out = [accounts.to_bytes(8, "little")]
    for leaf in range(accounts):
        # leaf index, then the record: key, owner, lamports, rent epoch, flags, data length
        out.append(leaf.to_bytes(8, "little") + rng.bytes(32) + bytes(32))
        out.append(struct.pack("<QQQQ", 10**9 + leaf, 0, 0, 0))
    return b"".join(out)


def _send(w3: Web3, fn: Any, me: str) -> tuple[int, int]:
    """Send a contract call; return (gas used, calldata bytes)."""
    size = len(bytes.fromhex(fn._encode_transaction_data().removeprefix("0x")))
    if size > MAX_TX_CALLDATA:
        raise SettlementError(f"a transaction of {size:,} B of calldata is over the limit")
    receipt = w3.eth.wait_for_transaction_receipt(fn.transact({"from": me}))
    if receipt["status"] != 1:
        raise SettlementError("a batch lifecycle transaction failed")
    return int(receipt["gasUsed"]), size


def _batch_lifecycle(w3: Web3, stark_gas: int) -> dict[str, object]:
    """Gas of commit, prove and execute of batches of 10, 100, 1000 SOL transfers, each
    changing two fresh accounts (the worst case for the state diff). A diff up to one chunk
    (96 KiB) travels inline in commitBatch; a larger one is posted chunk by chunk
    (postDiffChunk, one transaction each) and the commit names the chunks: the commit figure
    sums every transaction of it."""
    contract, verifier = rollup.deploy_with_test_verifier(w3, deadline_s=3600)
    me = w3.eth.accounts[0]
    for fn in (contract.functions.setSequencer(me, True), contract.functions.setOperator(me, True)):
        w3.eth.wait_for_transaction_receipt(fn.transact({"from": me}))
    rng = np.random.default_rng(3)
    previous = rollup.genesis(bytes(32))
    flags = KERNEL_FLAG_VERIFY_SIGNATURES | KERNEL_FLAG_STATE_TREE
    results: dict[str, object] = {"diff_chunk_bytes": DIFF_CHUNK_BYTES}
    print("batch lifecycle (test verifier; the STARK verification is added from above):")
    for number, txs in enumerate((10, 100, 1000), start=1):
        diff = _state_diff(2 * txs, rng)
        chunks = diff_chunks(diff) if len(diff) > DIFF_CHUNK_BYTES else []
        commit_gas = calldata = 0
        for index, chunk in enumerate(chunks):
            gas, size = _send(w3, contract.functions.postDiffChunk(number, index, chunk), me)
            commit_gas, calldata = commit_gas + gas, calldata + size
        timestamp = w3.eth.get_block("latest")["timestamp"]
        root = bytes(rng.bytes(32))
        hashes = [keccak256(chunk) for chunk in chunks]
        inline = b"" if chunks else diff
        commit_input: tuple[object, ...] = (
            number,
            timestamp,
            root,
            0,
            bytes(32),
            [],
            flags,
            inline,
            hashes,
        )
        fn = contract.functions.commitBatch(previous.as_tuple(), commit_input)
        stored = rollup.StoredBatch.from_tuple(fn.call({"from": me}))
        gas, size = _send(w3, fn, me)
        commit_gas, calldata = commit_gas + gas, calldata + size
        commit_txs = len(chunks) + 1
        w3.eth.wait_for_transaction_receipt(
            verifier.functions.setProven(stored.output_hash).transact({"from": me})
        )
        prove_gas, _ = _send(w3, contract.functions.proveBatch(stored.as_tuple(), b""), me)
        execute_gas, _ = _send(w3, contract.functions.executeBatch(stored.as_tuple()), me)
        previous = stored
        total = commit_gas + prove_gas + stark_gas + execute_gas
        how = f"{len(chunks)} chunks + commit" if chunks else "inline"
        print(
            f"  {txs:>5} txs: commit {commit_gas:,} ({commit_txs} tx, {how}, {calldata:,} B), "
            f"prove {prove_gas:,} + STARK {stark_gas:,}, execute {execute_gas:,}: "
            f"{total / txs:,.0f} gas per L2 transaction"
        )
        results.update(
            {
                f"batch{txs}_commit_gas": commit_gas,
                f"batch{txs}_commit_tx_count": commit_txs,
                f"batch{txs}_diff_bytes": len(diff),
                f"batch{txs}_commit_calldata_bytes": calldata,
                f"batch{txs}_prove_call_gas": prove_gas,
                f"batch{txs}_execute_gas": execute_gas,
                f"batch{txs}_gas_per_l2_tx": round(total / txs),
            }
        )
    return results


def _escape_withdrawal(w3: Web3) -> dict[str, object]:
    """Gas of one escape withdrawal: the owner's ed25519 signature checked and the account
    proven against a real Poseidon2 state tree (StateTreeAccountVerifier)."""
    rng = np.random.default_rng(5)
    keypairs = [Keypair.from_seed(bytes(rng.bytes(32))) for _ in range(8)]
    values = {bytes(k.pubkey()): AccountValue(10**9 + i) for i, k in enumerate(keypairs)}
    tree = StateTree.from_accounts(values)
    contract, _ = rollup.deploy_with_test_verifier(
        w3, genesis_root=tree.root(), deadline_s=1, state_tree=True
    )
    me = w3.eth.accounts[0]
    funds: TxParams = {"from": me, "value": Wei(10**19)}
    deposit = contract.functions.depositETH(bytes(32)).transact(funds)
    w3.eth.wait_for_transaction_receipt(deposit)  # never processed: escape mode follows
    w3.provider.make_request(RPCEndpoint("evm_increaseTime"), [2])
    w3.provider.make_request(RPCEndpoint("evm_mine"), [])
    activate = contract.functions.activateEscapeMode().transact({"from": me})
    w3.eth.wait_for_transaction_receipt(activate)
    keypair = keypairs[0]
    proof = state_tree.prove(tree, bytes(keypair.pubkey()))
    if not isinstance(proof, state_tree.MembershipProof):
        raise SettlementError("the account is not in the tree")
    lamports = values[bytes(keypair.pubkey())].lamports
    recipient = list(w3.eth.accounts)[1]
    escape = rollup.escape_withdraw_call(contract, keypair, lamports, recipient, proof)
    receipt = w3.eth.wait_for_transaction_receipt(escape.transact({"from": me}))
    if receipt["status"] != 1:
        raise SettlementError("the escape withdrawal failed")
    gas = int(receipt["gasUsed"])
    print(f"escape withdrawal (ed25519 authorisation + state-tree proof): {gas:,} gas")
    return {"escape_withdraw_gas": gas}


def _zkvm_batch_proof() -> dict[str, object]:
    """Prove a deposit batch with the zkVM and verify its STARK on an uncapped anvil."""
    from heliostat.devnet.l1 import VERIFIER_CALL_GAS, VERIFIER_STEP_BYTES
    from heliostat.runtime.interface import BatchInput, Block, BlockContext, Deposit
    from heliostat.runtime.proving import decode_proof, statement
    from heliostat.runtime.runtime import Runtime
    from heliostat.runtime.sample_batch import SOL, keypair, sample_world
    from heliostat.zkvm.verifier import zkvm_verifying_key

    world = sample_world(2)
    tree = world.tree()
    context = BlockContext(10, 1_700_000_000, frozenset([world.blockhash]))
    deposit = Deposit(0, keypair(777).pubkey(), 3 * SOL)
    batch = BatchInput(1, tree.root(), (deposit,), (Block(context, ()),))
    started = time.perf_counter()
    proof = Runtime().prove_batch(batch, world.state, tree=tree)
    prove_s = time.perf_counter() - started
    facts, stark_proof = decode_proof(proof.proof)
    publics = statement(facts, proof.public_output.encoded).to_fields()
    print(f"zkVM batch proof (one deposit, default parameters): proved in {prove_s:.1f} s")
    extra = ("--disable-code-size-limit",)
    with Anvil(block_gas_limit=1 << 30, tx_gas_cap=False, extra_args=extra) as chain:
        w3 = chain.web3()
        generated = generate_verifier(zkvm_verifying_key(DEFAULT), "ZkvmVerifier")
        onchain = OnChainVerifier.deploy(
            w3, generated, call_gas=VERIFIER_CALL_GAS, max_calldata=2 * VERIFIER_STEP_BYTES
        )
        report = onchain.verify_in_steps(stark_proof, publics, budget=VERIFIER_STEP_BYTES)
    figures = _show("zkVM batch proof, on a chain without Ethereum's limits", stark_proof, report)
    return {"zkvm_batch_prove_s": round(prove_s, 1)} | {
        f"zkvm_batch_{k}": v for k, v in figures.items()
    }


def main() -> None:
    """Measure and print; the last line is JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-rows", type=int, default=20)
    parser.add_argument("--cols", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="synthetic AIR at 2^12 x 20")
    args = parser.parse_args()
    log_rows, cols = (12, 20) if args.quick else (args.log_rows, args.cols)
    results: dict[str, object] = {"params": DEFAULT.name}
    with Anvil() as chain:
        w3 = chain.web3()
        phase = None
        for name, pk, traces, publics in _examples():
            data = prove(pk, traces, publics).to_bytes()
            onchain = OnChainVerifier.deploy(w3, generate_verifier(pk.vk, name), phases=phase)
            phase = onchain.phases
            figures = _show(name, data, _verify(onchain, data, publics))
            results.update({f"{name.lower()}_{k}": v for k, v in figures.items()})
        pk, data = _synthetic_proof(log_rows, cols)
        onchain = OnChainVerifier.deploy(w3, generate_verifier(pk.vk, "Synthetic"), phases=phase)
        label = f"synthetic 2^{log_rows} x {cols}"
        figures = _show(label, data, _verify(onchain, data, []))
        results.update({f"synthetic_{k}": v for k, v in figures.items()})
        results["synthetic_shape"] = f"2^{log_rows}x{cols}"
        results.update(_batch_lifecycle(w3, int(figures["total_gas"])))  # type: ignore[call-overload]
        results.update(_escape_withdrawal(w3))  # last: it moves the chain's clock
    results.update(_zkvm_batch_proof())
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
