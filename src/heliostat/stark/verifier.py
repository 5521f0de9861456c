"""The multi-table STARK verifier (pure Python; imports no prover module).

``verify`` replays the transcript, checks the constraints at the out-of-domain point ζ
against the quotient, checks that the LogUp sums balance, then checks every query: the
opened rows against the four round trees, the DEEP reduced openings against FRI layer 0, each
fold against the next layer, and the last fold against the final polynomial. Each failure
raises a ``VerificationError`` subclass naming the check.
"""

from __future__ import annotations

from collections.abc import Sequence

from heliostat.stark import logup
from heliostat.stark.clear import (
    check_clear_shape,
    check_clear_table,
    clear_logup_sum,
    clear_tables,
    clear_traces_bytes,
    committed_heights,
    full_trace,
)
from heliostat.stark.config import MIN_LOG_HEIGHT
from heliostat.stark.errors import (
    ConstraintMismatchError,
    FriFinalPolyError,
    FriFoldError,
    LogUpSumError,
    MerklePathError,
    OutOfDomainPointError,
    ProofFormatError,
    ProofOfWorkError,
    ProofShapeError,
    VerificationError,
)
from heliostat.stark.extension import Ext4
from heliostat.stark.field import GENERATOR, P, two_adic_generator
from heliostat.stark.fri import (
    FriSchedule,
    domain_point,
    evaluate_poly,
    fold_leaf,
    fri_schedule,
)
from heliostat.stark.kernel_errors import MerkleProofError
from heliostat.stark.keys import VerifyingKey, fixed_log_heights
from heliostat.stark.merkle import MerkleMultiProof, verify_matrix_opening
from heliostat.stark.pcs import (
    DeepEntry,
    MatrixSlot,
    Round,
    class_point_sums,
    class_power_count,
    column_coefficients,
    deep_layout,
    dot_ext_base,
    logup_sum_tables,
    next_columns,
    recombine,
    round_matrices,
    round_width,
    uses_logup,
)
from heliostat.stark.program import PointEnv, evaluate_at_point
from heliostat.stark.proof import ABSENT, Proof, TableOpenings, TreeOpening
from heliostat.stark.protocol import openings_bytes, statement_bytes
from heliostat.stark.transcript import Tag, Transcript, encode_ext, leading_zero_bits


def verify(
    vk: VerifyingKey,
    proof: Proof,
    public_values: Sequence[int],
    *,
    transcript: Transcript | None = None,
) -> None:
    """Accept the proof or raise a ``VerificationError`` that says which check failed."""
    machine, config = vk.machine, vk.config
    tr = transcript if transcript is not None else Transcript()
    publics = [int(v) for v in public_values]
    _check_shape(vk, proof, publics)
    b = config.log_blowup
    full_heights = list(proof.log_heights)
    clear = clear_tables(machine, full_heights, config)
    heights = committed_heights(full_heights, clear)  # what the commitment rounds hold

    tr.absorb(Tag.STATEMENT, statement_bytes(vk, full_heights, publics))
    if vk.preprocessed_root is not None:
        tr.absorb(Tag.PREPROCESSED_ROOT, vk.preprocessed_root)
    tr.absorb(Tag.MAIN_ROOT, proof.main_root)
    if clear:
        tr.absorb(Tag.CLEAR_TRACES, clear_traces_bytes([c.rows for c in proof.clear_traces]))
    challenges: list[Ext4] = []
    sums = [Ext4.zero()] * len(machine.tables)
    if uses_logup(machine, full_heights):
        challenges = [tr.sample_ext() for _ in range(logup.NUM_CHALLENGES)]
        if proof.permutation_root is not None:  # presence checked by _check_shape
            tr.absorb(Tag.PERMUTATION_ROOT, proof.permutation_root)
        tr.absorb(Tag.LOGUP_SUMS, encode_ext(proof.logup_sums))
        with_sums = logup_sum_tables(machine, heights)
        for t, s in zip(with_sums, proof.logup_sums, strict=True):
            sums[t] = s
    alpha = tr.sample_ext()
    tr.absorb(Tag.QUOTIENT_ROOT, proof.quotient_root)
    zeta = tr.sample_ext()
    tr.absorb(Tag.OPENED_VALUES, openings_bytes(proof.openings))

    # --- constraints at ζ -----------------------------------------------------------------
    if zeta.is_base():  # then ζ might be a domain point; probability ~2^-93
        raise OutOfDomainPointError("ζ fell in the base field", got=zeta.coeffs)
    for t in range(len(machine.tables)):
        if heights[t] == ABSENT:
            continue
        _check_constraints_at_zeta(
            vk, t, heights[t], proof.openings[t], publics, challenges, sums[t], alpha, zeta
        )
    # --- tables sent in the clear: every row, and their bus contributions -------------------
    clear_sums = []
    for t, sent in zip(clear, proof.clear_traces, strict=True):
        trace = full_trace(sent.rows, full_heights[t], machine.tables[t].width)
        check_clear_table(machine.tables[t], trace, publics)
        if machine.tables[t].interactions:
            clear_sums.append(clear_logup_sum(machine.tables[t], trace, publics, *challenges))
    if uses_logup(machine, full_heights):
        total = logup.public_logup_sum(machine, publics, *challenges)
        for s in (*proof.logup_sums, *clear_sums):
            total = total + s
        if total != Ext4.zero():
            raise LogUpSumError(
                "the LogUp sums do not add up to zero", expected=0, got=total.coeffs
            )

    # --- FRI commit phase, proof of work, queries -----------------------------------------
    alpha_fri = tr.sample_ext()
    layout = deep_layout(machine, heights, b)
    schedule = fri_schedule(list(layout), config)
    if len(proof.fri_roots) != len(schedule.log_arities):
        raise ProofShapeError(
            "FRI layer count", expected=len(schedule.log_arities), got=len(proof.fri_roots)
        )
    if len(proof.final_poly) != 1 << schedule.log_final_poly_len:
        raise ProofShapeError(
            "final polynomial length",
            expected=1 << schedule.log_final_poly_len,
            got=len(proof.final_poly),
        )
    betas = []
    for root in proof.fri_roots:
        tr.absorb(Tag.FRI_LAYER_ROOT, root)
        betas.append(tr.sample_ext())
    tr.absorb(Tag.FRI_FINAL_POLY, encode_ext(proof.final_poly))
    tr.absorb(Tag.POW_NONCE, proof.pow_nonce.to_bytes(8, "big"))
    if leading_zero_bits(tr.state) < config.pow_bits:
        raise ProofOfWorkError(
            "proof-of-work nonce does not grind enough zero bits",
            expected=config.pow_bits,
            got=leading_zero_bits(tr.state),
        )
    queries = tr.sample_indices(config.num_queries, schedule.log_max)

    rows = _verify_round_openings(vk, proof, heights, queries, schedule.log_max)
    leaves = _verify_fri_openings(proof, schedule, queries)
    n_powers = max(class_power_count(es) for es in layout.values())
    alpha_powers = [Ext4.one()]
    for _ in range(n_powers):
        alpha_powers.append(alpha_powers[-1] * alpha_fri)
    classes = {
        log_size: _ClassInfo(vk, log_size, entries, alpha_fri, alpha_powers, proof, zeta)
        for log_size, entries in layout.items()
    }
    for i in queries:
        _verify_query(i, schedule, classes, rows, leaves, betas, proof.final_poly)


def is_valid(vk: VerifyingKey, proof: Proof | bytes, public_values: Sequence[int]) -> bool:
    """Return True if the proof (object or bytes) verifies; False on any rejection."""
    try:
        verify(vk, proof if isinstance(proof, Proof) else Proof.from_bytes(proof), public_values)
    except (VerificationError, ProofFormatError):
        return False
    return True


# --- shape -------------------------------------------------------------------------------


def _check_shape(vk: VerifyingKey, proof: Proof, publics: list[int]) -> None:
    machine, config = vk.machine, vk.config
    tables = machine.tables
    if len(publics) != machine.num_public_values or any(not 0 <= v < P for v in publics):
        raise ProofShapeError("public values", expected=machine.num_public_values, got=len(publics))
    if len(proof.log_heights) != len(tables) or len(proof.openings) != len(tables):
        raise ProofShapeError("table count", expected=len(tables), got=len(proof.log_heights))
    if all(log_n == ABSENT for log_n in proof.log_heights):
        raise ProofShapeError("a proof includes at least one table", reason="absent_table")
    for table, log_n in zip(tables, proof.log_heights, strict=True):
        if log_n == ABSENT:
            if not table.may_be_absent:
                raise ProofShapeError(
                    f"{table.name}: every proof must include this table", reason="absent_table"
                )
            continue
        if not MIN_LOG_HEIGHT <= log_n <= config.max_log_height:
            raise ProofShapeError(f"{table.name}: height out of range", got=log_n)
        if table.fixed_log_height is not None and log_n != table.fixed_log_height:
            raise ProofShapeError(
                f"{table.name}: fixed height", expected=table.fixed_log_height, got=log_n
            )
    if machine.public_interactions and not uses_logup(machine, proof.log_heights):
        raise ProofShapeError("public bus messages but no table on a bus", reason="absent_table")
    heights = committed_heights(proof.log_heights, clear_tables(machine, proof.log_heights, config))
    with_perm = uses_logup(machine, heights)  # a committed table has interactions
    if (proof.permutation_root is None) == with_perm:
        raise ProofShapeError("permutation commitment presence", expected=with_perm)
    if (proof.permutation_opening is None) == with_perm:
        raise ProofShapeError("permutation opening presence", expected=with_perm)
    if (proof.preprocessed_opening is None) != (vk.preprocessed_root is None):
        raise ProofShapeError("fixed-column opening presence")
    n_sums = len(logup_sum_tables(machine, heights))
    if len(proof.logup_sums) != n_sums:
        raise ProofShapeError("LogUp sum count", expected=n_sums, got=len(proof.logup_sums))
    for table, log_n, o in zip(tables, heights, proof.openings, strict=True):
        expected = [0] * 7
        if log_n != ABSENT:
            expected = [
                round_width(table, Round.MAIN),
                len(next_columns(table, Round.MAIN)),
                round_width(table, Round.PREPROCESSED),
                len(next_columns(table, Round.PREPROCESSED)),
                round_width(table, Round.PERMUTATION),
                len(next_columns(table, Round.PERMUTATION)),
                round_width(table, Round.QUOTIENT),
            ]
        got = [len(v) for v in o.vectors()]
        if got != expected:
            raise ProofShapeError(f"{table.name}: opened value counts", expected=expected, got=got)
    check_clear_shape(machine, config, proof)


# --- constraints at ζ ----------------------------------------------------------------------


def selectors_at_point(zeta: Ext4, log_n: int) -> tuple[Ext4, tuple[Ext4, Ext4, Ext4]]:
    """Z_H(ζ) and (is_first_row, is_last_row, is_transition) at ζ for a table of 2^log_n rows.

    The first two are the Lagrange polynomials of 1 and ω^−1 (value 1 on their row, 0 on the
    rest of H); is_transition is ζ − ω^−1. ζ must not lie in H (Z_H(ζ) ≠ 0).
    """
    n = 1 << log_n
    omega_inv = pow(two_adic_generator(log_n), n - 1, P)
    z_h = zeta**n - 1
    if z_h == Ext4.zero():
        return z_h, (z_h, z_h, zeta - omega_inv)
    is_first = z_h / ((zeta - 1) * n)
    is_last = z_h * omega_inv / ((zeta - omega_inv) * n)
    return z_h, (is_first, is_last, zeta - omega_inv)


def _check_constraints_at_zeta(
    vk: VerifyingKey,
    t: int,
    log_n: int,
    o: TableOpenings,
    publics: list[int],
    challenges: list[Ext4],
    logup_sum: Ext4,
    alpha: Ext4,
    zeta: Ext4,
) -> None:
    table = vk.machine.tables[t]
    n = 1 << log_n
    z_h, selectors = selectors_at_point(zeta, log_n)
    if z_h == Ext4.zero():
        raise OutOfDomainPointError(f"{table.name}: ζ lies in the trace domain")
    env = PointEnv(
        main_local=o.main_local,
        main_next=_spread(o.main_next, next_columns(table, Round.MAIN), table.width),
        pre_local=o.pre_local,
        pre_next=_spread(
            o.pre_next, next_columns(table, Round.PREPROCESSED), table.preprocessed_width
        ),
        perm_local=recombine(o.perm_local),
        perm_next=recombine(
            _spread(o.perm_next, next_columns(table, Round.PERMUTATION), len(o.perm_local))
        ),
        publics=publics,
        challenges=challenges,
        logup_sum=logup_sum,
        selectors=selectors,
    )
    folded = Ext4.zero()
    power = Ext4.one()
    for value in evaluate_at_point(table.program, env):
        folded = folded + power * value
        power = power * alpha
    quotient = Ext4.zero()
    zeta_n = zeta**n
    shift = Ext4.one()
    for chunk in recombine(o.quotient):
        quotient = quotient + shift * chunk
        shift = shift * zeta_n
    if folded != z_h * quotient:
        raise ConstraintMismatchError(
            f"{table.name}: constraints at ζ do not match the quotient",
            expected=(z_h * quotient).coeffs,
            got=folded.coeffs,
        )


def _spread(values: Sequence[Ext4], columns: Sequence[int], width: int) -> list[Ext4]:
    """Place the values opened at ζω at their columns (zero elsewhere: never read)."""
    out = [Ext4.zero()] * width
    for c, v in zip(columns, values, strict=True):
        out[c] = v
    return out


# --- openings ------------------------------------------------------------------------------

# rows[(round, table)][index in that table's LDE] = the opened row
Rows = dict[tuple[Round, int], dict[int, tuple[int, ...]]]


def _verify_round_openings(
    vk: VerifyingKey, proof: Proof, heights: list[int], queries: list[int], log_max: int
) -> Rows:
    rounds: list[tuple[Round, bytes | None, TreeOpening | None, list[int]]] = [
        (
            Round.PREPROCESSED,
            vk.preprocessed_root,
            proof.preprocessed_opening,
            fixed_log_heights(vk.machine),
        ),
        (Round.MAIN, proof.main_root, proof.main_opening, heights),
        (Round.PERMUTATION, proof.permutation_root, proof.permutation_opening, heights),
        (Round.QUOTIENT, proof.quotient_root, proof.quotient_opening, heights),
    ]
    out: Rows = {}
    b = vk.config.log_blowup
    for rnd, root, opening, tree_heights in rounds:
        slots = round_matrices(vk.machine, tree_heights, b, rnd)
        if not slots:
            continue
        if root is None or opening is None:
            raise ProofShapeError(f"{rnd.name.lower()} commitment missing")
        tree_max = max(s.log_height for s in slots)
        indices = sorted({i >> (log_max - tree_max) for i in queries})
        _check_tree_shape(rnd, slots, opening, indices, tree_max)
        # each matrix opened each of its rows once: give every tree index its row
        per_index = []
        for slot, matrix_rows in zip(slots, opening.rows, strict=True):
            shift = tree_max - slot.log_height
            own = dict(zip(sorted({i >> shift for i in indices}), matrix_rows, strict=True))
            per_index.append([own[i >> shift] for i in indices])
        try:
            verify_matrix_opening(
                root,
                [(s.log_height, s.width) for s in slots],
                indices,
                per_index,
                MerkleMultiProof(opening.siblings),
            )
        except MerkleProofError as err:
            raise MerklePathError(
                f"{rnd.name.lower()} opening does not authenticate: {err}", reason=err.reason
            ) from err
        for slot, index_rows in zip(slots, per_index, strict=True):
            by_index = out.setdefault((rnd, slot.table), {})
            for index, row in zip(indices, index_rows, strict=True):
                by_index[index >> (tree_max - slot.log_height)] = row
    return out


def _check_tree_shape(
    rnd: Round, slots: list[MatrixSlot], opening: TreeOpening, indices: list[int], tree_max: int
) -> None:
    if len(opening.rows) != len(slots):
        raise ProofShapeError(
            f"{rnd.name.lower()} opening: matrix count", expected=len(slots), got=len(opening.rows)
        )
    for slot, matrix_rows in zip(slots, opening.rows, strict=True):
        n_indices = len({i >> (tree_max - slot.log_height) for i in indices})
        if len(matrix_rows) != n_indices or any(len(r) != slot.width for r in matrix_rows):
            raise ProofShapeError(
                f"{rnd.name.lower()} opening: rows of table {slot.table}",
                expected=(n_indices, slot.width),
            )


def _verify_fri_openings(
    proof: Proof, schedule: FriSchedule, queries: list[int]
) -> list[dict[int, tuple[Ext4, ...]]]:
    if len(proof.fri_openings) != len(schedule.log_arities):
        raise ProofShapeError(
            "FRI opening count", expected=len(schedule.log_arities), got=len(proof.fri_openings)
        )
    out = []
    for k, log_size in enumerate(schedule.layer_log_sizes()):
        a = schedule.log_arities[k]
        layer = proof.fri_openings[k]
        indices = sorted({(i >> (schedule.log_max - log_size)) >> a for i in queries})
        if len(layer.leaves) != len(indices) or any(len(x) != 1 << a for x in layer.leaves):
            raise ProofShapeError(f"FRI layer {k} opening shape", expected=(len(indices), 1 << a))
        flat = [tuple(c for v in leaf for c in v.coeffs) for leaf in layer.leaves]
        try:
            verify_matrix_opening(
                proof.fri_roots[k],
                [(log_size - a, 4 << a)],
                indices,
                [flat],
                MerkleMultiProof(layer.siblings),
            )
        except MerkleProofError as err:
            raise MerklePathError(
                f"FRI layer {k} opening does not authenticate: {err}", reason=err.reason
            ) from err
        out.append(dict(zip(indices, layer.leaves, strict=True)))
    return out


# --- queries -------------------------------------------------------------------------------


class _ClassInfo:
    """Per height class: the column coefficients and the sums S(ζ), T(ζω) and points."""

    def __init__(
        self,
        vk: VerifyingKey,
        log_size: int,
        entries: list[DeepEntry],
        alpha_fri: Ext4,
        alpha_powers: list[Ext4],
        proof: Proof,
        zeta: Ext4,
    ) -> None:
        self.log_size = log_size
        self.entries = entries
        self.alpha_fri = alpha_fri
        self.coeffs = [[c.coeffs for c in column_coefficients(e, alpha_powers)] for e in entries]
        self.next_coeffs = [
            [coeffs[j] for j in e.next_columns]
            for e, coeffs in zip(entries, self.coeffs, strict=True)
        ]
        self.s_zeta, self.t_next = class_point_sums(entries, alpha_powers, proof.openings)
        log_n = log_size - vk.config.log_blowup
        self.zeta = zeta
        self.zeta_next = zeta * two_adic_generator(log_n)

    def reduced_opening(self, index: int, rows: Rows) -> Ext4:
        """ro(x) at the class's LDE position ``index`` from the opened rows."""
        x = domain_point(self.log_size, index, GENERATOR)
        s, t = Ext4.zero(), Ext4.zero()
        for entry, coeffs, next_coeffs in zip(
            self.entries, self.coeffs, self.next_coeffs, strict=True
        ):
            row = rows[(entry.slot.round, entry.slot.table)][index]
            s = s + dot_ext_base(coeffs, row)
            if entry.next_columns:
                t = t + dot_ext_base(next_coeffs, [row[j] for j in entry.next_columns])
        den_z, den_zw = x - self.zeta, x - self.zeta_next
        return (s - self.s_zeta) / den_z + self.alpha_fri * (t - self.t_next) / den_zw


def _verify_query(
    index: int,
    schedule: FriSchedule,
    classes: dict[int, _ClassInfo],
    rows: Rows,
    leaves: list[dict[int, tuple[Ext4, ...]]],
    betas: list[Ext4],
    final_poly: tuple[Ext4, ...],
) -> None:
    log_size = schedule.log_max
    value = classes[log_size].reduced_opening(index, rows)
    for k, a in enumerate(schedule.log_arities):
        position = index >> (schedule.log_max - log_size)
        leaf = leaves[k][position >> a]
        if leaf[position & ((1 << a) - 1)] != value:
            raise FriFoldError(
                f"FRI layer {k} disagrees with the value folded into it",
                expected=value.coeffs,
                got=leaf[position & ((1 << a) - 1)].coeffs,
            )
        value = fold_leaf(leaf, a, position >> a, log_size, schedule.shift(log_size), betas[k])
        log_size -= a
        if log_size in classes:
            roll = betas[k] ** (1 << a)
            value = value + roll * classes[log_size].reduced_opening(
                index >> (schedule.log_max - log_size), rows
            )
    position = index >> (schedule.log_max - log_size)
    x = domain_point(log_size, position, schedule.shift(log_size))
    expected = evaluate_poly(final_poly, x)
    if value != expected:
        raise FriFinalPolyError(
            "the last fold disagrees with the final polynomial",
            expected=expected.coeffs,
            got=value.coeffs,
        )
