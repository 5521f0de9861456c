"""The C library in Heliostat's VM against the Python reference on the same witnesses: equal
new roots and statuses on Hypothesis batches, and the same error code for every tampering."""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from state_tree_helpers import MAX_KEY, key, keys, python_verdict, values

from heliostat.primitives.poseidon2 import P
from heliostat.runtime import state_witness as sw
from heliostat.runtime.state_tree import DEPTH, ZERO_KEY, AccountValue, StateTree
from heliostat.runtime.state_witness import (
    AbsentRecord,
    BatchWitness,
    FinalValue,
    PresentRecord,
    WitnessErrorCode,
)
from heliostat.testing.state_tree_sbpf import OP_COMMIT, OP_OPEN, OP_VERIFY, harness

E = WitnessErrorCode


def changed_finals(witness: BatchWitness, finals: list[FinalValue]) -> list[tuple[int, FinalValue]]:
    start = sw.initial_values(witness)
    return [(i, f) for i, (s, f) in enumerate(zip(start, finals, strict=True)) if s != f]


@st.composite
def scenarios(draw):
    initial = draw(st.dictionaries(keys, values, max_size=8))
    tree = StateTree.from_accounts(initial)
    if draw(st.booleans()):  # some history: tombstones and holes
        sw.update(tree, draw(st.dictionaries(keys, st.one_of(values, st.none()), max_size=4)))
    touched = draw(st.lists(keys, min_size=1, max_size=7, unique=True))
    present = [k for k in touched if tree.record(k) is not None]
    elided = draw(st.lists(st.sampled_from(present), unique=True)) if present else []
    changes = {}
    for k in touched:
        if not draw(st.booleans()):
            continue
        value = draw(st.one_of(values, st.none()))
        if k in elided and value is not None:  # an elided account keeps its data
            value = dataclasses.replace(value, data=tree.record(k).value.data)
        changes[k] = value
    return tree, touched, elided, changes


@settings(max_examples=25, deadline=None)
@given(scenarios())
def test_c_and_python_agree_on_batches(scenario):
    tree, touched, elided, changes = scenario
    old_root = tree.root()
    witness = sw.make_witness(tree, touched, elide=elided)
    encoded = witness.encode()
    assert sw.decode(encoded) == witness
    finals = sw.finals_for(tree, witness, changes)
    expected = sw.commit(witness, finals, old_root)
    changed = changed_finals(witness, finals)
    run = harness().run(OP_COMMIT, old_root, encoded, changed)
    assert (run.code, run.stage) == (E.OK, 2)
    assert run.new_root == expected.new_root
    assert run.statuses == expected.statuses
    # the runtime's buffers need not be aligned: data read at odd addresses hashes the same
    assert harness().run(OP_COMMIT, old_root, encoded, changed, misalign=True).new_root == (
        expected.new_root
    )
    assert harness().run(OP_VERIFY, old_root, encoded).code == E.OK
    sw.apply(tree, witness, changes)
    assert tree.root() == expected.new_root


# ---------------------------------------------------------------------------------------------
# Tampering: every case is built as bytes, then judged by both implementations.


@dataclasses.dataclass
class Case:
    tree: StateTree
    witness: BatchWitness
    changes: dict[bytes, FinalValue]  # honest final values of the changed keys

    def position(self, k: bytes) -> int:
        return next(i for i, r in enumerate(self.witness.records) if r.key == k)

    def finals(self, witness: BatchWitness) -> list[FinalValue]:
        """The honest final values where the record kept its kind; else its start value."""
        honest = {r.key: type(r) for r in self.witness.records}
        start = sw.initial_values(witness)
        return [self.changes[r.key] if r.key in self.changes and honest.get(r.key) is type(r)
                else start[i] for i, r in enumerate(witness.records)]  # fmt: skip


ACCOUNTS = {key(n): AccountValue(1000 + n, owner=key(1), data=bytes([n]) * (n + 20))
            for n in (5, 10, 20, 30, 40, 50)}  # fmt: skip


def base_case() -> Case:
    tree = StateTree.from_accounts(ACCOUNTS)
    touched = [key(10), key(20), key(25), key(30), key(40), key(60), MAX_KEY]
    witness = sw.make_witness(tree, touched, elide=[key(40)])
    changes = {
        key(10): AccountValue(5, owner=key(1), data=b"new data"),
        key(20): None,
        key(25): AccountValue(7),
        key(40): AccountValue(1, owner=key(1), data=ACCOUNTS[key(40)].data),
        MAX_KEY: AccountValue(3, data=b"max"),
    }
    finals = sw.finals_for(tree, witness, changes)
    return Case(tree, witness, {r.key: f for r, f in zip(witness.records, finals, strict=True)
                                if r.key in changes})  # fmt: skip


def siblings_for(tree: StateTree, indices: list[int]):
    """The siblings an honest tree gives for a set of leaves (what a forger would send)."""
    known, out = sorted(indices), []
    for h in range(DEPTH):
        k = 0
        while k < len(known):
            if known[k] % 2 == 0 and k + 1 < len(known) and known[k + 1] == known[k] + 1:
                k += 2
                continue
            out.append(tree.node(h, known[k] ^ 1))
            k += 1
        known = sorted({i >> 1 for i in known})
    return tuple(out)


def rebuilt(case: Case, records) -> BatchWitness:
    """A witness over other records, its order and siblings made consistent with them."""
    draft = BatchWitness(tuple(records), (), ())
    order = tuple(sorted(range(len(records)), key=draft.leaf_index))
    siblings = siblings_for(case.tree, [draft.leaf_index(i) for i in order])
    return BatchWitness(tuple(records), order, siblings)


def replace_record(case: Case, k: bytes, **fields) -> BatchWitness:
    records = list(case.witness.records)
    i = case.position(k)
    records[i] = dataclasses.replace(records[i], **fields)
    return dataclasses.replace(case.witness, records=tuple(records))


def false_absence(case: Case, *, stretch: bool) -> BatchWitness:
    """Claim the present key(40) absent behind key(30) — with key(30)'s true next key (the
    interval check fails) or with it stretched past key(40) (the root check fails)."""
    records = list(case.witness.records)
    i, low = case.position(key(40)), case.position(key(30))
    records[i] = AbsentRecord(key(40), case.tree.free_slots(5)[-1] + 1, low)
    if stretch:
        records[low] = dataclasses.replace(records[low], next_key=key(50))
    return rebuilt(case, records)


def false_presence(case: Case) -> BatchWitness:
    """Claim the absent key(25) present in its empty slot, with a made-up account."""
    records = list(case.witness.records)
    i = case.position(key(25))
    records[i] = PresentRecord(key(25), records[i].slot, key(30), 10**6, ZERO_KEY, False, 0, 0,
                               b"")  # fmt: skip
    return rebuilt(case, records)


def occupied_slot(case: Case) -> BatchWitness:
    """Reserve key(25)'s creation slot on key(5)'s leaf, which the witness does not carry."""
    records = list(case.witness.records)
    i = case.position(key(25))
    records[i] = dataclasses.replace(records[i], slot=case.tree.record(key(5)).index)
    return rebuilt(case, records)


def patch(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new) :]


def sibling_offset(witness: BatchWitness, s: int) -> int:
    return len(witness.encode()) - 32 * (len(witness.siblings) - s)


def first_absent_offset(witness: BatchWitness) -> int:
    at = 16
    for r in witness.records:
        if isinstance(r, AbsentRecord):
            return at
        at += 128 + (32 if r.data is None else len(r.data) + (-len(r.data) % 8))
    raise AssertionError("no absent record")


# name -> (builder of (witness bytes, final values, old root), expected code)
Builder = Callable[[Case], tuple[bytes, list[FinalValue], bytes]]


def w(fn) -> Builder:
    def build(c: Case):
        witness = fn(c)
        return witness.encode(), c.finals(witness), c.tree.root()

    return build


def raw(fn) -> Builder:
    return lambda c: (fn(c.witness.encode(), c), c.finals(c.witness), c.tree.root())


def final(position_key: bytes, **fields) -> Builder:
    def build(c: Case):
        finals = c.finals(c.witness)
        i = c.position(position_key)
        finals[i] = dataclasses.replace(finals[i], **fields)
        return c.witness.encode(), finals, c.tree.root()

    return build


def bump_sibling(c: Case) -> BatchWitness:
    siblings = list(c.witness.siblings)
    siblings[3] = ((siblings[3][0] + 1) % P, *siblings[3][1:])
    return dataclasses.replace(c.witness, siblings=tuple(siblings))


TAMPERS: dict[str, tuple[Builder, E]] = {
    "balance changed": (w(lambda c: replace_record(c, key(10), lamports=10**15)), E.ROOT),
    "owner changed": (w(lambda c: replace_record(c, key(10), owner=ZERO_KEY)), E.ROOT),
    "data byte changed": (
        w(lambda c: replace_record(c, key(10), data=b"\x0b" + bytes([10]) * 29)),
        E.ROOT,
    ),
    "next key changed": (w(lambda c: replace_record(c, key(10), next_key=key(21))), E.ROOT),
    "executable flag set": (w(lambda c: replace_record(c, key(10), executable=True)), E.ROOT),
    "elided data hash changed": (
        w(lambda c: replace_record(c, key(40), data_hash=(1,) * 8)),
        E.ROOT,
    ),
    "wrong sibling": (w(bump_sibling), E.ROOT),
    "wrong old root": (
        lambda c: (c.witness.encode(), c.finals(c.witness), StateTree().root()),
        E.ROOT,
    ),
    "false absence, true low leaf": (w(lambda c: false_absence(c, stretch=False)), E.LOW_LEAF),
    "false absence, stretched low leaf": (w(lambda c: false_absence(c, stretch=True)), E.ROOT),
    "false presence": (w(false_presence), E.ROOT),
    "creation slot occupied": (w(occupied_slot), E.ROOT),
    "low leaf is absent": (
        w(lambda c: replace_record(c, key(60), low=c.position(key(25)))),
        E.LOW_LEAF,
    ),
    "low leaf after the key": (
        w(lambda c: replace_record(c, key(25), low=c.position(key(40)))),
        E.LOW_LEAF,
    ),
    "duplicate leaf": (
        w(lambda c: replace_record(c, key(25), slot=c.tree.record(key(20)).index)),
        E.INDEX_ORDER,
    ),
    "order not ascending": (
        w(
            lambda c: dataclasses.replace(
                c.witness, order=(c.witness.order[1], c.witness.order[0], *c.witness.order[2:])
            )
        ),
        E.INDEX_ORDER,
    ),
    "keys out of order": (
        w(
            lambda c: dataclasses.replace(
                c.witness,
                records=(c.witness.records[1], c.witness.records[0], *c.witness.records[2:]),
            )
        ),
        E.ORDER,
    ),
    "sibling missing": (
        w(lambda c: dataclasses.replace(c.witness, siblings=c.witness.siblings[:-1])),
        E.SIBLINGS,
    ),
    "sibling extra": (
        w(lambda c: dataclasses.replace(c.witness, siblings=(*c.witness.siblings, (0,) * 8))),
        E.SIBLINGS,
    ),
    "sibling not canonical": (
        raw(lambda b, c: patch(b, sibling_offset(c.witness, 2), struct.pack("<I", P))),
        E.NONCANONICAL,
    ),
    "elided hash not canonical": (
        w(lambda c: replace_record(c, key(40), data_hash=(P, 0, 0, 0, 0, 0, 0, 0))),
        E.NONCANONICAL,
    ),
    "trailing byte": (raw(lambda b, c: b + b"\0"), E.TRAILING),
    "truncated": (raw(lambda b, c: b[:-5]), E.TRUNCATED),
    "truncated header": (raw(lambda b, c: b[:9]), E.TRUNCATED),
    "bad version": (raw(lambda b, c: patch(b, 0, struct.pack("<I", 2))), E.FORMAT),
    "bad depth": (raw(lambda b, c: patch(b, 4, struct.pack("<I", 20))), E.FORMAT),
    "unknown kind": (raw(lambda b, c: patch(b, 16 + 32, b"\x07")), E.FORMAT),
    "unknown flag": (raw(lambda b, c: patch(b, 16 + 33, b"\x04")), E.FORMAT),
    "absent padding": (
        raw(lambda b, c: patch(b, first_absent_offset(c.witness) + 44, b"\x01")),
        E.FORMAT,
    ),
    "data padding": (raw(lambda b, c: patch(b, 16 + 128 + 30, b"\x01")), E.FORMAT),
    "final executable 2": (final(key(10), executable=2), E.VALUE),
    "final changes elided data": (final(key(40), data=b"x", data_len=1), E.VALUE),
    "final data missing": (final(key(25), data=None, data_len=4), E.VALUE),
}


def everything(finals: list[FinalValue]) -> list[tuple[int, FinalValue]]:
    return list(enumerate(finals))


def test_base_case_commits():
    c = base_case()
    finals = everything(c.finals(c.witness))
    code, root = python_verdict(c.witness.encode(), finals, c.tree.root())
    run = harness().run(OP_COMMIT, c.tree.root(), c.witness.encode(), finals)
    assert code == run.code == E.OK and root == run.new_root
    assert set(run.statuses) == set(sw.Status)


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_tampering_is_rejected_by_c_and_python_alike(name):
    build, expected = TAMPERS[name]
    c = base_case()
    data, finals, root = build(c)
    honest = (c.witness.encode(), c.finals(c.witness), c.tree.root())
    assert (data, finals, root) != honest
    code, _ = python_verdict(data, everything(finals), root)
    run = harness().run(OP_COMMIT, root, data, everything(finals))
    assert code == expected
    assert run.code == expected


def test_c_refuses_too_little_memory():
    c = base_case()
    run = harness().run(OP_OPEN, c.tree.root(), c.witness.encode(), heap=1024)
    assert (run.code, run.stage) == (E.MEMORY, 1)


def test_empty_witness_keeps_the_root():
    tree = StateTree()
    witness = sw.make_witness(tree, [])
    run = harness().run(OP_COMMIT, tree.root(), witness.encode())
    assert run.code == E.OK and run.new_root == tree.root()


# Tamperings of the witness itself (not of the final values): st_verify, the early check
# without any commit, refuses them too, with the same code.
WITNESS_TAMPERS = sorted(name for name, (_, code) in TAMPERS.items() if code != E.VALUE)


@pytest.mark.parametrize("name", WITNESS_TAMPERS)
def test_verify_alone_rejects_witness_tampering(name):
    build, expected = TAMPERS[name]
    data, _, root = build(base_case())
    assert harness().run(OP_VERIFY, root, data).code == expected


def test_find_locates_every_record_and_nothing_else():
    c = base_case()
    keys = [r.key for r in c.witness.records]
    others = [ZERO_KEY, key(11), key(35), MAX_KEY[:-1] + b"\xfe"]
    found = harness().find(c.witness.encode(), keys + others)
    assert found == list(range(len(keys))) + [None] * len(others)


def test_no_data_may_be_a_null_pointer():
    c = base_case()
    finals = c.finals(c.witness)
    i = c.position(key(25))  # created with no data
    assert finals[i].data == b"" and finals[i].data_len == 0
    expected = python_verdict(c.witness.encode(), everything(finals), c.tree.root())
    finals[i] = dataclasses.replace(finals[i], data=None)
    code, root = python_verdict(c.witness.encode(), everything(finals), c.tree.root())
    run = harness().run(OP_COMMIT, c.tree.root(), c.witness.encode(), everything(finals))
    assert (code, root) == expected == (run.code, run.new_root)
    assert code == E.OK
