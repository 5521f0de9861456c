"""Honest proofs verify: every example AIR, several heights, both parameter sets, and bytes."""

from __future__ import annotations

import numpy as np
import pytest

from heliostat.stark.air import Interaction, compile_machine
from heliostat.stark.config import DEFAULT, FAST_TEST
from heliostat.stark.errors import VerificationError
from heliostat.stark.examples import fibonacci, lookup, range_counter, synthetic
from heliostat.stark.extension import Ext4
from heliostat.stark.proof import Proof
from heliostat.stark.prover import prove, setup
from heliostat.stark.symbolic import public
from heliostat.stark.transcript import Tag, Transcript
from heliostat.stark.verifier import is_valid, verify


def test_fixture_proofs_verify(fib_case, counter_case, lookup_case) -> None:
    for case in (fib_case, counter_case, lookup_case):
        verify(case.pk.vk, case.proof, case.publics)
        assert is_valid(case.pk.vk, case.proof.to_bytes(), case.publics)


@pytest.mark.parametrize("log_n", [2, 3, 6])
def test_fibonacci_heights(log_n: int) -> None:
    trace, publics = fibonacci.generate_trace(log_n, a0=5, b0=8)
    pk = setup(compile_machine([fibonacci.FibonacciAir()], 3), FAST_TEST)
    verify(pk.vk, prove(pk, [trace], publics), publics)


@pytest.mark.parametrize("log_reader", [2, 6, 10])
def test_lookup_tables_of_different_heights(log_reader: int) -> None:
    """The reader is shorter than, as tall as, or taller than the fixed 2^8 byte table."""
    reader, counts = lookup.generate_traces(log_reader, np.random.default_rng(log_reader))
    pk = setup(compile_machine([lookup.ReaderAir(), lookup.ByteTableAir()]), FAST_TEST)
    proof = prove(pk, [reader, counts], [])
    assert proof.log_heights == (log_reader, 8)
    verify(pk.vk, proof, [])


def test_three_tables_and_degree_four() -> None:
    """Fibonacci, a degree-4 synthetic table with a bus, and the counter, proven together."""
    rng = np.random.default_rng(3)
    fib, fib_pub = fibonacci.generate_trace(3)
    counter, counter_pub = range_counter.generate_trace(5)

    class Counter(range_counter.RangeCounterAir):
        def eval(self, ab):  # the counter reads its publics at offset 3
            c = ab.main.local[0]
            ab.when_transition().assert_eq(ab.main.next[0], c + 1)
            ab.when_first_row().assert_eq(c, ab.public(3))
            ab.when_last_row().assert_eq(c, ab.public(4))

    machine = compile_machine([fibonacci.FibonacciAir(), synthetic.SyntheticAir(7), Counter()], 5)
    assert machine.tables[1].max_degree == 4
    pk = setup(machine, FAST_TEST)
    traces = [fib, synthetic.generate_trace(6, 7, rng), counter]
    publics = fib_pub + counter_pub
    proof = prove(pk, traces, publics)
    assert proof.log_heights == (3, 6, 5)
    verify(pk.vk, Proof.from_bytes(proof.to_bytes()), publics)


def test_public_interactions_balance_a_bus() -> None:
    """A reader whose sends are balanced by public receives instead of a table."""

    class Sender:
        name, width = "sender", 1

        def preprocessed_trace(self):
            return None

        def eval(self, ab):
            ab.send(3, [ab.main.local[0]], 1)

    values = [11, 22, 33, 44]
    receives = [Interaction.receive(3, [public(i)]) for i in range(4)]
    pk = setup(compile_machine([Sender()], 4, receives), FAST_TEST)
    trace = np.array(values, dtype=np.uint32).reshape(4, 1)
    verify(pk.vk, prove(pk, [trace], values), values)
    assert not is_valid(pk.vk, prove(pk, [trace], values), [11, 22, 33, 45])


@pytest.mark.slow
def test_default_parameters() -> None:
    trace, publics = range_counter.generate_trace(7, start=100)
    pk = setup(compile_machine([range_counter.RangeCounterAir()], 2), DEFAULT)
    proof = prove(pk, [trace], publics)
    assert len(proof.fri_openings) == len(proof.fri_roots) > 0
    verify(pk.vk, Proof.from_bytes(proof.to_bytes()), publics)


def test_prover_and_verifier_transcripts_agree_step_by_step(lookup_case) -> None:
    case = lookup_case
    prover_side, verifier_side = Transcript(record=True), Transcript(record=True)
    proof = prove(case.pk, case.traces, case.publics, transcript=prover_side)
    verify(case.pk.vk, proof, case.publics, transcript=verifier_side)
    assert len(prover_side.events) == len(verifier_side.events) > 10
    for step, (p, v) in enumerate(zip(prover_side.events, verifier_side.events, strict=True)):
        assert (step, p.tag, p.data, p.state) == (step, v.tag, v.data, v.state)
    tags = [e.tag for e in prover_side.events]
    order = [Tag.STATEMENT, Tag.PREPROCESSED_ROOT, Tag.MAIN_ROOT, Tag.SQUEEZE, Tag.SQUEEZE]
    assert tags[:5] == order
    assert tags.index(Tag.PERMUTATION_ROOT) < tags.index(Tag.QUOTIENT_ROOT)
    assert (
        tags.index(Tag.OPENED_VALUES) < tags.index(Tag.FRI_LAYER_ROOT) < tags.index(Tag.POW_NONCE)
    )


def test_proving_is_deterministic(fib_case) -> None:
    again = prove(fib_case.pk, fib_case.traces, fib_case.publics)
    assert again.to_bytes() == fib_case.proof.to_bytes()


def test_verifying_key_needs_no_prover(lookup_case) -> None:
    """A verifier derives the same key from the machine and config alone."""
    from heliostat.stark.keys import verifying_key

    vk = verifying_key(lookup_case.pk.machine, lookup_case.pk.config)
    assert vk == lookup_case.pk.vk
    verify(vk, lookup_case.proof, lookup_case.publics)


def test_verifier_modules_import_no_prover_module() -> None:
    import ast
    import pathlib

    import heliostat.stark as stark

    root = pathlib.Path(stark.__file__).parent
    prover_side = {"prover", "pcs_prover", "fri_prover", "quotient", "logup_trace",
                   "constraint_eval", "_eval_kernels", "debug"}  # fmt: skip
    verifier_side = ["verifier", "fri", "pcs", "program", "proof", "keys", "logup", "clear",
                     "transcript", "protocol", "air", "symbolic", "config", "errors"]  # fmt: skip
    seen, pending = set(), list(verifier_side)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        tree = ast.parse((root / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "heliostat.stark"
            ):
                mod = node.module.split(".")[2] if node.module.count(".") >= 2 else None
                names = [mod] if mod else [a.name for a in node.names]
                for n in names:
                    assert n not in prover_side, f"{name} imports {n}"
                    if (root / f"{n}.py").exists():
                        pending.append(n)


class _PowerAir:
    """y = x^d on every row: one constraint of degree d (no selector)."""

    name, width = "power", 2

    def __init__(self, degree: int) -> None:
        self.degree = degree

    def preprocessed_trace(self):
        return None

    def eval(self, ab):
        x, y = ab.main.local
        ab.assert_eq(y, x**self.degree, f"y = x^{self.degree}")


@pytest.mark.parametrize("degree", [3, 5, 6, 8])
@pytest.mark.parametrize("config", [FAST_TEST, DEFAULT], ids=["fast-test", "default"])
def test_constraint_degrees(degree: int, config) -> None:
    """Quotients of 2, 4, 5 and 7 chunks, on a prefix of the LDE or on a separate domain."""
    x = np.random.default_rng(degree).integers(0, 2**31 - 2**27, 16, dtype=np.uint64)
    y = x.copy()
    for _ in range(degree - 1):
        y = y * x % (2**31 - 2**27 + 1)
    trace = np.stack([x, y], axis=1).astype(np.uint32)
    pk = setup(compile_machine([_PowerAir(degree)]), config)
    assert pk.machine.tables[0].num_quotient_chunks == degree - 1
    verify(pk.vk, prove(pk, [trace], []), [])
    bad = trace.copy()
    bad[3, 1] ^= 1
    with pytest.raises(VerificationError):
        verify(pk.vk, prove(pk, [bad], [], check_constraints=False), [])


def test_selectors_as_multiplicities_publish_boundary_values() -> None:
    """A counter sends its first and last values once each (is_first_row / is_last_row as
    multiplicities); public receives take them: the proof binds both publics."""

    class Counter:
        name, width = "counter", 1

        def preprocessed_trace(self):
            return None

        def eval(self, ab):
            (c,) = ab.main.local
            ab.when_transition().assert_eq(ab.main.next[0], c + 1)
            ab.send(4, [c, 0], ab.is_first_row)
            ab.send(4, [c, 1], ab.is_last_row)

    receives = [Interaction.receive(4, [public(0), 0]), Interaction.receive(4, [public(1), 1])]
    pk = setup(compile_machine([Counter()], 2, receives), FAST_TEST)
    trace = np.arange(100, 132, dtype=np.uint32).reshape(-1, 1)
    proof = prove(pk, [trace], [100, 131])
    verify(pk.vk, proof, [100, 131])
    assert not is_valid(pk.vk, proof, [100, 130])
    with pytest.raises(VerificationError):
        verify(pk.vk, prove(pk, [trace], [101, 131], check_constraints=False), [101, 131])


def test_selectors_are_the_lagrange_polynomials_of_the_first_and_last_rows() -> None:
    """Prover (on the quotient domain) and verifier (at ζ) use the same polynomials, which
    are 1 on their row and 0 on the rest of H."""
    from heliostat.stark.field import two_adic_generator
    from heliostat.stark.ntt import coset_lde, evaluate_at_point
    from heliostat.stark.quotient import quotient_domain
    from heliostat.stark.verifier import selectors_at_point

    log_n, n = 4, 16
    first = np.zeros((n, 1), dtype=np.uint32)
    first[0] = 1
    last = np.zeros((n, 1), dtype=np.uint32)
    last[-1] = 1
    omega_inv = pow(two_adic_generator(log_n), n - 1, 2013265921)
    points = np.array([pow(two_adic_generator(log_n), i, 2013265921) for i in range(n)])
    transition = ((points.astype(np.int64) - omega_inv) % 2013265921).astype(np.uint32)
    dom = quotient_domain(log_n, 2)
    for k, column in enumerate((first, last, transition.reshape(n, 1))):
        expected = coset_lde(column, 2, bit_reversed=True).reshape(-1)
        assert np.array_equal(dom.selectors[k], expected), k
    zeta = Ext4(5, 7, 11, 13)
    _, at_zeta = selectors_at_point(zeta, log_n)
    for k, column in enumerate((first, last, transition.reshape(n, 1))):
        assert at_zeta[k] == Ext4.from_array(evaluate_at_point(column, zeta)[0]), k


def test_unconstrained_table_next_to_a_constrained_one() -> None:
    """A table with no constraints at all still commits, opens and folds correctly."""

    class Free:
        name, width = "free", 3

        def preprocessed_trace(self):
            return None

        def eval(self, ab):
            pass

    trace, publics = fibonacci.generate_trace(3)
    free = np.random.default_rng(0).integers(0, 2**30, size=(32, 3), dtype=np.uint32)
    pk = setup(compile_machine([fibonacci.FibonacciAir(), Free()], 3), FAST_TEST)
    assert pk.machine.tables[1].num_quotient_chunks == 1
    verify(pk.vk, prove(pk, [trace, free], publics), publics)
