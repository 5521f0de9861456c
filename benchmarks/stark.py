"""STARK benchmarks: kernel throughput (NTT, LDE, Keccak, Merkle, Poseidon2, extension field).

Run: .venv/bin/python benchmarks/stark.py [--quick]
Each section is a function returning a dict of unit-bearing figures; main() prints readable
lines as it goes and ends with exactly one JSON line merging every section's dict.
(The protocol section — whole-proof time and size — is added by the protocol engineer.)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from heliostat.stark import extension, field, keccak, merkle, ntt, poseidon2

TRACE_LOG_ROWS = 20
TRACE_COLS = 100


def best_of(fn: Callable[[], Any], repeats: int) -> float:
    """Best wall-clock time of ``repeats`` runs after one warm-up run (compiles, caches)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def say(line: str) -> None:
    print(line, flush=True)


def section_ntt(rng: np.random.Generator, log_rows: int, cols: int, repeats: int) -> dict:
    small = field.random_elements(rng, (1 << 16, 64))
    t_small = best_of(lambda: ntt.ntt(small), repeats)
    say(f"ntt 2^16 x 64                 {t_small * 1e3:8.1f} ms")
    vec = field.random_elements(rng, 1 << 20)
    t_vec = best_of(lambda: ntt.ntt(vec), repeats)
    say(f"ntt 2^20 (one column)         {t_vec * 1e3:8.1f} ms")
    big = field.random_elements(rng, (1 << log_rows, cols))
    t_big = best_of(lambda: ntt.ntt(big), repeats)
    rate = big.size / t_big
    say(f"ntt 2^{log_rows} x {cols}               {t_big:8.3f} s   ({rate / 1e6:.0f} M elem/s)")
    return {
        "ntt_2p16x64_ms": round(t_small * 1e3, 2),
        "ntt_2p20_1col_ms": round(t_vec * 1e3, 2),
        f"ntt_2p{log_rows}x{cols}_s": round(t_big, 4),
        "ntt_elements_per_s": round(rate),
    }


def section_lde(rng: np.random.Generator, log_rows: int, cols: int, repeats: int) -> dict:
    trace = field.random_elements(rng, (1 << log_rows, cols))
    out = {}
    for log_blowup in (1, 2):
        t = best_of(lambda b=log_blowup: ntt.coset_lde(trace, b), repeats)
        t_br = best_of(lambda b=log_blowup: ntt.coset_lde(trace, b, bit_reversed=True), repeats)
        say(
            f"coset_lde 2^{log_rows} x {cols} blowup {1 << log_blowup}  {t:8.3f} s natural, "
            f"{t_br:.3f} s bit-reversed"
        )
        out[f"lde_2p{log_rows}x{cols}_blowup{1 << log_blowup}_s"] = round(t, 4)
        out[f"lde_2p{log_rows}x{cols}_blowup{1 << log_blowup}_bitrev_s"] = round(t_br, 4)
    return out


def section_hashing(rng: np.random.Generator, log_rows: int, cols: int, repeats: int) -> dict:
    rows = field.random_elements(rng, (1 << log_rows, cols))
    t_rows = best_of(lambda: keccak.hash_rows(rows), repeats)
    rate = rows.shape[0] / t_rows
    say(f"keccak hash_rows {cols} cols        {rate / 1e6:8.2f} M rows/s ({cols * 4} B rows)")
    digests = rng.integers(0, 256, (1 << (log_rows + 1), 32), dtype=np.uint8)
    t_pairs = best_of(lambda: keccak.compress_pairs(digests), repeats)
    pair_rate = digests.shape[0] / 2 / t_pairs
    say(f"keccak compress_pairs         {pair_rate / 1e6:8.2f} M nodes/s")
    return {
        f"keccak_rows_{cols * 4}B_per_s": round(rate),
        "keccak_nodes_per_s": round(pair_rate),
    }


def section_commit(rng: np.random.Generator, log_rows: int, cols: int, repeats: int) -> dict:
    trace = field.random_elements(rng, (1 << log_rows, cols))

    def commit() -> bytes:
        lde = ntt.coset_lde(trace, 1, bit_reversed=True)
        return merkle.MatrixCommitment.commit([lde]).root

    t = best_of(commit, max(1, repeats - 1))
    say(f"commit 2^{log_rows} x {cols} (LDE x2 + Keccak Merkle) {t:6.3f} s")
    return {f"commit_2p{log_rows}x{cols}_blowup2_s": round(t, 4)}


def section_poseidon2(rng: np.random.Generator, repeats: int) -> dict:
    states = field.random_elements(rng, (1 << 18, 16))
    t = best_of(lambda: poseidon2.permute_batch(states), repeats)
    rate = states.shape[0] / t
    say(f"poseidon2 width 16            {rate / 1e6:8.2f} M perms/s")
    return {"poseidon2_perms_per_s": round(rate)}


def section_extension(rng: np.random.Generator, log_rows: int, cols: int, repeats: int) -> dict:
    n = 1 << (log_rows + 1)
    a = field.random_elements(rng, (n, 4))
    b = field.random_elements(rng, (n, 4))
    t_mul = best_of(lambda: extension.ext_mul(a, b), repeats)
    t_inv = best_of(lambda: extension.ext_inv(a), repeats)
    m = field.random_elements(rng, (n, cols))
    coeffs = field.random_elements(rng, (cols, 4))
    t_comb = best_of(lambda: extension.ext_combine_columns(m, coeffs), repeats)
    say(f"ext mul                       {n / t_mul / 1e6:8.1f} M/s")
    say(f"ext inv (batch)               {n / t_inv / 1e6:8.1f} M/s")
    say(f"ext combine 2^{log_rows + 1} x {cols} columns {t_comb:8.3f} s")
    return {
        "ext_mul_per_s": round(n / t_mul),
        "ext_inv_per_s": round(n / t_inv),
        f"ext_combine_2p{log_rows + 1}x{cols}_s": round(t_comb, 4),
    }


class PeakRss:
    """Samples the process's resident set size in a thread; ``peak_mb`` after ``stop``."""

    def __init__(self, every_s: float = 0.02) -> None:
        import threading

        self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every_s,), daemon=True)
        self._thread.start()

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _run(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.peak = max(self.peak, self._rss())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak, self._rss()) / 2**20


def section_proof(rng: np.random.Generator, log_rows: int, cols: int) -> dict:
    """The whole proof: synthetic AIR (degree-3 transitions, one LogUp bus), default set."""
    from heliostat.stark.air import compile_machine
    from heliostat.stark.config import DEFAULT
    from heliostat.stark.examples import synthetic
    from heliostat.stark.proof import Proof
    from heliostat.stark.prover import prove, setup
    from heliostat.stark.security import machine_shape, report
    from heliostat.stark.verifier import verify

    machine = compile_machine([synthetic.SyntheticAir(cols)])
    pk = setup(machine, DEFAULT)
    warm = synthetic.generate_trace(10, cols, rng)  # loads every cached kernel once
    verify(pk.vk, prove(pk, [warm], []), [])
    start = time.perf_counter()
    trace = synthetic.generate_trace(log_rows, cols, rng)
    t_trace = time.perf_counter() - start
    rss = PeakRss()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    proof = prove(pk, [trace], [], timings=timings)
    t_prove = time.perf_counter() - start
    peak_mb = rss.stop()
    # again, in memory the process has touched before (a long-running prover's steady state;
    # in this VM first touches of fresh memory are slow)
    start = time.perf_counter()
    prove(pk, [trace], [])
    t_prove_again = time.perf_counter() - start
    data = proof.to_bytes()
    t_verify = best_of(lambda: verify(pk.vk, Proof.from_bytes(data), []), 2)
    sec = report(DEFAULT, machine_shape(machine, [log_rows], DEFAULT))
    phases = ", ".join(f"{k} {v:.2f}" for k, v in timings.items())
    say(f"proof 2^{log_rows} x {cols}, degree 3 + LogUp bus, set {DEFAULT.name!r}:")
    say(f"  trace generation            {t_trace:8.3f} s (not part of proving)")
    say(f"  prove                       {t_prove:8.3f} s   ({phases})")
    say(f"  prove again (warm memory)   {t_prove_again:8.3f} s")
    say(f"  verify (decode + verify)    {t_verify:8.3f} s   (Python)")
    say(f"  proof size                  {len(data) / 1024:8.1f} KiB ({len(data)} bytes)")
    say(f"  peak memory (RSS)           {peak_mb:8.0f} MiB")
    say(
        f"  security: conjectured {sec.conjectured_bits:.1f} bits; proven "
        f"{sec.proven['JBR']['total']} (JBR), {sec.proven['UDR']['total']} (UDR)"
    )
    return {
        "proof_rows": 1 << log_rows,
        "proof_cols": cols,
        "prove_s": round(t_prove, 3),
        "prove_again_s": round(t_prove_again, 3),
        "verify_s": round(t_verify, 4),
        "proof_bytes": len(data),
        "prove_peak_rss_mb": round(peak_mb),
        "conjectured_security_bits": round(sec.conjectured_bits, 1),
        "proven_security_bits_jbr": sec.proven["JBR"]["total"],
        "proven_security_bits_udr": sec.proven["UDR"]["total"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2^16 rows instead of 2^20")
    parser.add_argument("--proof-only", action="store_true", help="only the whole-proof section")
    args = parser.parse_args(argv)
    log_rows = 16 if args.quick else TRACE_LOG_ROWS
    repeats = 2 if args.quick else 3
    rng = np.random.default_rng(2026)
    say(f"# heliostat.stark kernels, {os.cpu_count()} cores, numba threads default")
    results: dict[str, Any] = {}
    if not args.proof_only:
        results |= section_ntt(rng, log_rows, TRACE_COLS, repeats)
        results |= section_lde(rng, log_rows, TRACE_COLS, repeats)
        results |= section_hashing(rng, log_rows, TRACE_COLS, repeats)
        results |= section_commit(rng, log_rows, TRACE_COLS, repeats)
        results |= section_poseidon2(rng, repeats)
        results |= section_extension(rng, log_rows, TRACE_COLS, repeats)
    results |= section_proof(rng, log_rows, TRACE_COLS)
    print(json.dumps(results, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
