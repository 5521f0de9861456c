"""The multi-table STARK prover: setup (fixed columns) and ``prove``.

Steps, each absorbed into the transcript in this order (docs/stark.md has the details):
statement → fixed-column root (from the key) → main root → LogUp challenges z, β → permutation
root and LogUp sums → α → quotient root → ζ → opened values → FRI (α_fri, layer roots and β's,
final polynomial) → proof-of-work nonce → query indices → openings.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from heliostat.stark import logup
from heliostat.stark.air import CompiledMachine
from heliostat.stark.clear import (
    clear_logup_sum,
    clear_tables,
    clear_traces_bytes,
    committed_heights,
    sent_rows,
)
from heliostat.stark.config import MIN_LOG_HEIGHT, StarkConfig
from heliostat.stark.constraint_eval import (
    KernelProgram,
    compile_kernel_program,
    evaluate_quotient_numerator,
)
from heliostat.stark.debug import assert_machine, trace_selectors
from heliostat.stark.errors import ConstraintViolationError, TraceError
from heliostat.stark.extension import Ext4, ext_powers, ext_weighted_column_sums
from heliostat.stark.field import GENERATOR, P, as_field_array, two_adic_generator
from heliostat.stark.fri import fri_schedule
from heliostat.stark.fri_prover import commit_phase, grind, open_layers
from heliostat.stark.keys import VerifyingKey, commit_fixed_columns
from heliostat.stark.logup_trace import permutation_trace
from heliostat.stark.ntt import barycentric_weights, coset_ntt
from heliostat.stark.pcs import (
    Round,
    class_power_count,
    deep_layout,
    logup_sum_tables,
    next_columns,
    round_matrices,
    uses_logup,
)
from heliostat.stark.pcs_prover import (
    DeepSource,
    RoundCommitment,
    commit_round,
    lde,
    open_round,
    reduced_opening,
)
from heliostat.stark.program import ExprProgram
from heliostat.stark.proof import (
    ABSENT,
    EMPTY_OPENINGS,
    ClearTrace,
    Proof,
    TableOpenings,
    TreeOpening,
)
from heliostat.stark.protocol import openings_bytes, statement_bytes
from heliostat.stark.quotient import quotient_chunks, quotient_domain
from heliostat.stark.transcript import Tag, Transcript, encode_ext

U32Array = NDArray[np.uint32]


@dataclass
class _Kernels:
    quotient: KernelProgram
    interactions: KernelProgram | None
    own_constraints: KernelProgram


@dataclass
class ProvingKey:
    """The verifying key plus what the prover keeps: fixed-column LDEs and compiled kernels."""

    vk: VerifyingKey
    preprocessed: RoundCommitment | None
    kernels: list[_Kernels] = field(default_factory=list)

    @property
    def machine(self) -> CompiledMachine:
        """The compiled tables."""
        return self.vk.machine

    @property
    def config(self) -> StarkConfig:
        """The parameter set."""
        return self.vk.config


def setup(machine: CompiledMachine, config: StarkConfig) -> ProvingKey:
    """Commit to the fixed columns and compile the constraint kernels."""
    fixed = commit_fixed_columns(machine, config)
    pre = None
    if fixed is not None:
        pre = RoundCommitment(Round.PREPROCESSED, fixed.slots, fixed.ldes, fixed.tree)
    kernels = []
    for t in machine.tables:
        own_program = ExprProgram(
            t.program.instructions, t.program.outputs[: t.num_own_constraints]
        )
        kernels.append(
            _Kernels(
                quotient=compile_kernel_program(t.program),
                interactions=(
                    compile_kernel_program(t.interaction_program, raw_outputs=True)
                    if t.interactions
                    else None
                ),
                own_constraints=compile_kernel_program(own_program),
            )
        )
    vk = VerifyingKey(machine, config, None if pre is None else pre.root)
    return ProvingKey(vk, pre, kernels)


def _validate(
    pk: ProvingKey, traces: Sequence[U32Array | None]
) -> tuple[list[U32Array | None], list[int]]:
    """Check shapes; leave out the tables that may be absent and have no or all-zero rows.

    Such a table gets None and the height ``ABSENT``.
    """
    machine, config = pk.machine, pk.config
    if len(traces) != len(machine.tables):
        raise TraceError("one trace per table", expected=len(machine.tables), got=len(traces))
    out: list[U32Array | None] = []
    log_heights = []
    for table, trace in zip(machine.tables, traces, strict=True):
        if trace is None and table.may_be_absent:
            out.append(None)
            log_heights.append(ABSENT)
            continue
        if trace is None:
            raise TraceError(f"{table.name}: every proof includes this table")
        arr = as_field_array(trace)
        if arr.ndim != 2 or arr.shape[1] != table.width:
            raise TraceError(f"{table.name}: trace shape", expected=table.width, got=arr.shape)
        if table.may_be_absent and not arr.any():
            out.append(None)
            log_heights.append(ABSENT)
            continue
        n = arr.shape[0]
        log_n = n.bit_length() - 1
        if n != 1 << log_n or not MIN_LOG_HEIGHT <= log_n <= config.max_log_height:
            raise TraceError(
                f"{table.name}: height must be 2^k with {MIN_LOG_HEIGHT} ≤ k ≤ "
                f"{config.max_log_height}",
                got=n,
            )
        if table.fixed_log_height is not None and log_n != table.fixed_log_height:
            raise TraceError(
                f"{table.name}: height is fixed by its fixed columns",
                expected=1 << table.fixed_log_height,
                got=n,
            )
        out.append(arr)
        log_heights.append(log_n)
    if all(h == ABSENT for h in log_heights):
        raise TraceError("a proof includes at least one table")
    if machine.public_interactions and not uses_logup(machine, log_heights):
        raise TraceError("public bus messages but no table of the proof on a bus")
    return out, log_heights


def _all_traces(machine: CompiledMachine, traces: Sequence[U32Array | None]) -> list[U32Array]:
    """Return the traces, with an all-zero 4-row trace per absent table (for the debug checker)."""
    return [
        np.zeros((1 << MIN_LOG_HEIGHT, t.width), np.uint32) if m is None else m
        for t, m in zip(machine.tables, traces, strict=True)
    ]


def _check_own_constraints(
    pk: ProvingKey, traces: Sequence[U32Array | None], publics: Sequence[int]
) -> None:
    """Fast check (numba, random combination on H); on failure the debug checker names it."""
    rng_alpha = Ext4(*(int.from_bytes(os.urandom(8), "big") % P for _ in range(4)))
    for t, (table, trace) in enumerate(zip(pk.machine.tables, traces, strict=True)):
        if trace is None:
            continue
        n = trace.shape[0]
        kp = pk.kernels[t].own_constraints
        if kp.n_outputs == 0:
            continue
        selectors = np.array(trace_selectors(n.bit_length() - 1), dtype=np.uint32)
        values = evaluate_quotient_numerator(
            kp,
            main=trace,
            pre=table.preprocessed,
            perm=None,
            next_index=(np.arange(n, dtype=np.int64) + 1) % n,
            selectors=selectors,
            publics=list(publics),
            challenges=[],
            logup_sum=Ext4.zero(),
            alpha_powers=[rng_alpha**k for k in range(kp.n_outputs)],
            scale=np.ones(n, dtype=np.uint32),
        )
        if values.any():
            assert_machine(pk.machine, _all_traces(pk.machine, traces), publics)  # raises
            raise ConstraintViolationError(f"{table.name}: a constraint fails")


def _open_table(
    trace: U32Array | None, weights: tuple[U32Array, U32Array], next_columns: tuple[int, ...]
) -> tuple[tuple[Ext4, ...], tuple[Ext4, ...]]:
    """All columns at ζ; the columns read on the next row at ζω."""
    if trace is None:
        return (), ()
    at = ext_weighted_column_sums(weights[0], trace)
    at_next: U32Array | tuple[()] = ()
    if next_columns:
        part = np.ascontiguousarray(trace[:, list(next_columns)])
        at_next = ext_weighted_column_sums(weights[1], part)
    return (
        tuple(Ext4.from_array(v) for v in at),
        tuple(Ext4.from_array(v) for v in at_next),
    )


@dataclass
class _Run:
    """The state of one proof as it is built (the witness and everything committed so far)."""

    pk: ProvingKey
    tr: Transcript
    check: bool
    traces: list[U32Array | None]  # None: the table is absent
    log_heights: list[int]
    publics: list[int]
    rounds: dict[Round, RoundCommitment] = field(default_factory=dict)
    challenges: list[Ext4] = field(default_factory=list)
    perm_traces: list[U32Array | None] = field(default_factory=list)
    sums: list[Ext4] = field(default_factory=list)
    chunk_coeffs: list[U32Array] = field(default_factory=list)
    clock: _PhaseClock | None = None
    # the tables sent in the clear (their traces are None above, their heights ABSENT)
    clear: list[int] = field(default_factory=list)
    clear_traces: list[U32Array] = field(default_factory=list)
    full_heights: list[int] = field(default_factory=list)

    def lap(self, name: str) -> None:
        """Record a sub-phase time (no-op without a clock)."""
        if self.clock is not None:
            self.clock.lap(name)

    @property
    def machine(self) -> CompiledMachine:
        return self.pk.machine

    @property
    def log_blowup(self) -> int:
        return self.pk.config.log_blowup


def _commit_main(run: _Run) -> None:
    slots = round_matrices(run.machine, run.log_heights, run.log_blowup, Round.MAIN)
    ldes = [lde(m, run.log_blowup) for m in run.traces if m is not None]
    run.lap("main LDE")
    run.rounds[Round.MAIN] = commit_round(Round.MAIN, slots, ldes)
    run.tr.absorb(Tag.MAIN_ROOT, run.rounds[Round.MAIN].root)
    if run.clear:
        sent = [sent_rows(m).tolist() for m in run.clear_traces]
        run.tr.absorb(Tag.CLEAR_TRACES, clear_traces_bytes(sent))
    run.lap("main tree")


def _logup_round(run: _Run) -> None:
    """Sample z, β; build and commit the permutation traces; absorb root and sums."""
    machine = run.machine
    run.perm_traces = [None] * len(run.traces)
    run.sums = [Ext4.zero()] * len(run.traces)
    if not uses_logup(machine, run.full_heights):
        return
    run.challenges = [run.tr.sample_ext() for _ in range(logup.NUM_CHALLENGES)]
    for t, table in enumerate(machine.tables):
        kp, trace = run.pk.kernels[t].interactions, run.traces[t]
        if kp is not None and trace is not None:
            run.perm_traces[t], run.sums[t] = permutation_trace(
                table, kp, trace, run.publics, *run.challenges
            )
    if run.check:  # with the clear tables' sums, computed as the verifier will
        sums, traces = list(run.sums), list(run.traces)
        for t, trace in zip(run.clear, run.clear_traces, strict=True):
            traces[t] = trace
            u64 = trace.astype(np.uint64)
            sums[t] = clear_logup_sum(machine.tables[t], u64, run.publics, *run.challenges)
        _check_logup_sums(run.pk, traces, run.publics, sums, run.challenges)
    run.lap("logup trace")
    slots = round_matrices(machine, run.log_heights, run.log_blowup, Round.PERMUTATION)
    ldes = []
    for slot in slots:
        perm = run.perm_traces[slot.table]
        assert perm is not None  # round_matrices lists only tables with interactions
        ldes.append(lde(perm, run.log_blowup))
    if slots:  # some committed table has interactions
        run.rounds[Round.PERMUTATION] = commit_round(Round.PERMUTATION, slots, ldes)
        run.tr.absorb(Tag.PERMUTATION_ROOT, run.rounds[Round.PERMUTATION].root)
    with_sums = [run.sums[t] for t in logup_sum_tables(machine, run.log_heights)]
    run.tr.absorb(Tag.LOGUP_SUMS, encode_ext(with_sums))
    run.lap("logup commit")


def _on_quotient_domain(run: _Run, t: int, rnd: Round) -> U32Array | None:
    """Return a table's trace of one round on its quotient domain (bit-reversed), if any."""
    table = run.machine.tables[t]
    log_n, log_q = run.log_heights[t], table.log_quotient_degree
    committed = run.rounds[rnd].lde_of(t) if rnd in run.rounds else None
    if committed is None:
        return None
    if log_q <= run.log_blowup:  # the quotient domain is a prefix of the bit-reversed LDE
        return committed[: 1 << (log_n + log_q)]
    source = {
        Round.MAIN: run.traces[t],
        Round.PREPROCESSED: table.preprocessed,
        Round.PERMUTATION: run.perm_traces[t],
    }[rnd]
    assert source is not None  # committed above, so it exists
    return lde(source, log_q)


def _quotient_round(run: _Run) -> None:
    """Sample α; compute, split and commit every table's quotient."""
    alpha = run.tr.sample_ext()
    run.chunk_coeffs = [np.zeros((0, 0), np.uint32)] * len(run.traces)
    for t, table in enumerate(run.machine.tables):
        if run.log_heights[t] == ABSENT:
            continue
        main_q = _on_quotient_domain(run, t, Round.MAIN)
        assert main_q is not None  # every table of the proof commits its main trace
        run.chunk_coeffs[t] = quotient_chunks(
            run.pk.kernels[t].quotient,
            quotient_domain(run.log_heights[t], table.log_quotient_degree),
            log_n=run.log_heights[t],
            num_chunks=table.num_quotient_chunks,
            main=main_q,
            pre=_on_quotient_domain(run, t, Round.PREPROCESSED),
            perm=_on_quotient_domain(run, t, Round.PERMUTATION),
            publics=run.publics,
            challenges=run.challenges,
            logup_sum=run.sums[t],
            alpha=alpha,
            n_constraints=len(table.constraints),
            check=run.check,
            table_name=table.name,
        )
    run.lap("quotient evaluation")
    b = run.log_blowup
    slots = round_matrices(run.machine, run.log_heights, b, Round.QUOTIENT)
    ldes = [coset_ntt(run.chunk_coeffs[s.table], GENERATOR, b, bit_reversed=True) for s in slots]
    run.rounds[Round.QUOTIENT] = commit_round(Round.QUOTIENT, slots, ldes)
    run.tr.absorb(Tag.QUOTIENT_ROOT, run.rounds[Round.QUOTIENT].root)
    run.lap("quotient commit")


def compute_openings(run: _Run, zeta: Ext4) -> list[TableOpenings]:
    """Every committed polynomial at ζ (and ζ·ω_t where the next row is read)."""
    openings = []
    for t, table in enumerate(run.machine.tables):
        log_n = run.log_heights[t]
        if log_n == ABSENT:
            openings.append(EMPTY_OPENINGS)
            continue
        zeta_next = zeta * two_adic_generator(log_n)
        weights = (barycentric_weights(log_n, zeta), barycentric_weights(log_n, zeta_next))
        main_at = _open_table(run.traces[t], weights, next_columns(table, Round.MAIN))
        pre_at = _open_table(table.preprocessed, weights, next_columns(table, Round.PREPROCESSED))
        perm_at = _open_table(run.perm_traces[t], weights, next_columns(table, Round.PERMUTATION))
        # the chunks are held as coefficients: evaluate by Σ_j c_j·ζ^j
        q_at = ext_weighted_column_sums(ext_powers(zeta, 1 << log_n), run.chunk_coeffs[t])
        quotient = tuple(Ext4.from_array(v) for v in q_at)
        openings.append(TableOpenings(*main_at, *pre_at, *perm_at, quotient))
    return openings


def _fri_inputs(run: _Run, openings: list[TableOpenings], zeta: Ext4) -> dict[int, U32Array]:
    """Sample α_fri and build each height class's DEEP reduced opening."""
    alpha_fri = run.tr.sample_ext()
    layout = deep_layout(run.machine, run.log_heights, run.log_blowup)
    n_powers = max(class_power_count(entries) for entries in layout.values())
    alpha_powers = [Ext4.one()]
    for _ in range(n_powers):
        alpha_powers.append(alpha_powers[-1] * alpha_fri)
    sources: dict[tuple[Round, int], DeepSource] = {}
    for t, table in enumerate(run.machine.tables):
        trace = run.traces[t]
        if trace is None:
            continue
        sources[(Round.MAIN, t)] = DeepSource(trace, False)
        if table.preprocessed is not None:
            sources[(Round.PREPROCESSED, t)] = DeepSource(table.preprocessed, False)
        perm = run.perm_traces[t]
        if perm is not None:
            sources[(Round.PERMUTATION, t)] = DeepSource(perm, False)
        sources[(Round.QUOTIENT, t)] = DeepSource(run.chunk_coeffs[t], True)
    inputs = {}
    for log_size, entries in layout.items():
        zeta_next = zeta * two_adic_generator(log_size - run.log_blowup)
        inputs[log_size] = reduced_opening(
            log_size, run.log_blowup, entries, sources, openings, alpha_fri, alpha_powers,
            zeta, zeta_next,
        )  # fmt: skip
    return inputs


def prove(
    pk: ProvingKey,
    traces: Sequence[U32Array | None],
    public_values: Sequence[int],
    *,
    check_constraints: bool = True,
    transcript: Transcript | None = None,
    timings: dict[str, float] | None = None,
) -> Proof:
    """Prove that the traces satisfy the machine's constraints and buses.

    A table that may be absent (``CompiledAir.may_be_absent``) is left out of the proof when
    its trace is None or all zero. ``check_constraints=False`` is for soundness tests only: it
    switches off every check on the prover's side, so a bad trace still yields a (bad) proof
    for the verifier to reject.
    ``timings``, if given, receives the seconds spent in each phase.
    """
    clock = _PhaseClock(timings)
    machine, config = pk.machine, pk.config
    mats, log_heights = _validate(pk, traces)
    publics = [int(v) for v in public_values]
    if len(publics) != machine.num_public_values or any(not 0 <= v < P for v in publics):
        raise TraceError("public values", expected=machine.num_public_values, got=publics)
    if check_constraints:
        _check_own_constraints(pk, mats, publics)
    clock.lap("check")
    tr = transcript if transcript is not None else Transcript()
    clear = clear_tables(machine, log_heights, config)
    committed = [None if t in clear else m for t, m in enumerate(mats)]
    sent = [m for t, m in enumerate(mats) if t in clear and m is not None]
    run = _Run(
        pk, tr, check_constraints, committed, committed_heights(log_heights, clear), publics,
        clock=clock, clear=clear, clear_traces=sent, full_heights=log_heights,
    )  # fmt: skip

    tr.absorb(Tag.STATEMENT, statement_bytes(pk.vk, log_heights, publics))
    if pk.preprocessed is not None:
        run.rounds[Round.PREPROCESSED] = pk.preprocessed
        tr.absorb(Tag.PREPROCESSED_ROOT, pk.preprocessed.root)
    _commit_main(run)
    _logup_round(run)
    _quotient_round(run)
    zeta = tr.sample_ext()
    openings = compute_openings(run, zeta)
    tr.absorb(Tag.OPENED_VALUES, openings_bytes(openings))
    clock.lap("openings")

    inputs = _fri_inputs(run, openings, zeta)
    clock.lap("deep")
    schedule = fri_schedule(list(inputs), config)
    fri = commit_phase(inputs, schedule, tr, check=check_constraints)
    tr.absorb(Tag.FRI_FINAL_POLY, encode_ext(fri.final_poly))
    clock.lap("fri")
    nonce = grind(tr.state, config.pow_bits)
    tr.absorb(Tag.POW_NONCE, nonce.to_bytes(8, "big"))
    queries = tr.sample_indices(config.num_queries, schedule.log_max)
    clock.lap("grinding")

    def opening_of(rnd: Round) -> TreeOpening | None:
        if rnd not in run.rounds:
            return None
        return open_round(run.rounds[rnd], queries, schedule.log_max)

    main_opening, quotient_opening = opening_of(Round.MAIN), opening_of(Round.QUOTIENT)
    assert main_opening is not None and quotient_opening is not None  # always committed
    proof = Proof(
        log_heights=tuple(log_heights),
        main_root=run.rounds[Round.MAIN].root,
        permutation_root=(
            run.rounds[Round.PERMUTATION].root if Round.PERMUTATION in run.rounds else None
        ),
        logup_sums=tuple(run.sums[t] for t in logup_sum_tables(machine, run.log_heights)),
        quotient_root=run.rounds[Round.QUOTIENT].root,
        openings=tuple(openings),
        fri_roots=tuple(tree.root for tree in fri.trees),
        final_poly=tuple(fri.final_poly),
        pow_nonce=nonce,
        preprocessed_opening=opening_of(Round.PREPROCESSED),
        main_opening=main_opening,
        permutation_opening=opening_of(Round.PERMUTATION),
        quotient_opening=quotient_opening,
        fri_openings=tuple(open_layers(fri, schedule, queries)),
        clear_traces=tuple(
            ClearTrace(m.shape[1], tuple(tuple(row) for row in sent_rows(m).tolist()))
            for m in run.clear_traces
        ),
    )
    clock.lap("queries")
    return proof


class _PhaseClock:
    """Adds the time since the previous lap to ``timings[name]`` (no-op without a dict)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self._timings = timings
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        if self._timings is not None:
            self._timings[name] = self._timings.get(name, 0.0) + now - self._last
        self._last = now


def _check_logup_sums(
    pk: ProvingKey,
    traces: Sequence[U32Array | None],
    publics: Sequence[int],
    sums: Sequence[Ext4],
    challenges: Sequence[Ext4],
) -> None:
    """Check that the buses balance; if not, let the debug checker name the messages."""
    total = logup.public_logup_sum(pk.machine, publics, challenges[0], challenges[1])
    for s in sums:
        total = total + s
    if total != Ext4.zero():
        assert_machine(pk.machine, _all_traces(pk.machine, traces), publics)
        raise ConstraintViolationError("the LogUp sums do not add up to zero")
