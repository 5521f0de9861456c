"""The output table: every word of the public output, committed like the input.

`heliostat_publish` appends bytes to the output region (region 5) at the output cursor
(syscall_publish_chip); the boundary sends each output word's final value on OUTPUT_DATA. This
table receives them, one row per word 0, 1, …, output_last in order (so no word of the
output is left out of the commitment), and sends each as a leaf of the output tree, whose
root the commitment table seals into the public output hash. Bytes past the output's length
are zero in its last word: the output region starts zeroed and only publishes write it.

An output of at least 32 bytes also shows its first four words in the clear: rows flagged
`prefix` send OUTPUT_PREFIX (word, value), which the public interactions receive once for
each of words 0–3 with the public limbs `out_prefix_*`. Only real rows may be flagged, and a
real row is the one row of its word, so the four messages can only be words 0–3's true values
(a flagged row of another word leaves a message nobody receives). A kernel publishes
keccak256 of its output head there: the hash L1 keeps for a batch.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.zkvm import public_values as pv
from heliostat.zkvm.buses import OUTPUT_PREFIX_WORDS, REGION_OUTPUT, REGION_SHIFT, Bus
from heliostat.zkvm.commitment import TREE_OUTPUT
from heliostat.zkvm.frame import limb_columns
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.u16_chip import LookupCounts

OUTPUT = Layout()
for _name in ("is_real", "word", "has_next", "prefix"):
    OUTPUT.add(_name)
OUTPUT.add("v", 4)


class OutputChip:
    """The public output's words, in order."""

    name = "output"
    width = OUTPUT.width

    def preprocessed_trace(self) -> None:
        """No fixed columns."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """Consecutive words from 0 to the public last one; OUTPUT_DATA in, leaves out."""
        r, nxt = Row(ab.main.local, OUTPUT), Row(ab.main.next, OUTPUT)
        real, word, has_next = r.one("is_real"), r.one("word"), r.one("has_next")
        for name in ("is_real", "has_next", "prefix"):
            ab.assert_bool(r.one(name), f"{name} is boolean")
        ab.assert_zero(r.one("prefix") * (1 - real), "only real rows are public")
        ab.when_first_row().assert_zero(word, "the first word is word 0")
        ab.when_transition().assert_eq(has_next, nxt.one("is_real"), "has_next")
        ab.when_transition().assert_zero((1 - real) * nxt.one("is_real"), "real rows first")
        ab.when_last_row().assert_zero(has_next, "no next on the last row")
        ab.when_transition().assert_zero(has_next * (nxt.one("word") - word - 1), "next word")
        last = ab.public(pv.index("output_last"))
        ab.assert_zero(real * (1 - has_next) * (word - last), "the last row is the last word")
        values = r.many("v")
        for k, v in enumerate(values):
            ab.send(Bus.U16, [v], real, f"limb {k}")
        address = word + REGION_OUTPUT * REGION_SHIFT
        ab.receive(Bus.OUTPUT_DATA, [address, *values], real, "output word")
        ab.send(Bus.MERKLE, [TREE_OUTPUT, 0, word, *values, 0, 0, 0, 0], real, "output leaf")
        ab.send(Bus.OUTPUT_PREFIX, [word, *values], r.one("prefix"), "public output word")


def generate_output(
    words: NDArray[np.int64], values: NDArray[np.uint64], lookups: LookupCounts, *, prefix: bool
) -> NDArray[np.int64]:
    """Rows for the output words (indices 0..n−1 in order) and their final values.

    ``prefix``: words 0–3 are public values (an output of at least 32 bytes).
    """
    n = int(words.shape[0])
    if not np.array_equal(words, np.arange(n)):
        raise ValueError("the output words must be 0, 1, ..., n − 1")
    t = np.zeros((n, OUTPUT.width), dtype=np.int64)
    t[:, OUTPUT.index("is_real")] = 1
    t[:, OUTPUT.index("word")] = words
    t[: n - 1, OUTPUT.index("has_next")] = 1
    if prefix:
        t[:OUTPUT_PREFIX_WORDS, OUTPUT.index("prefix")] = 1
    limbs = limb_columns(values)
    t[:, OUTPUT.span("v")] = limbs
    lookups.u16(limbs.reshape(-1))
    return t
