"""The sparse Merkle proof of the image, input and output trees, and their commitment rows.

Node rows: one per node on the paths from the touched leaves (program and input rows send
their leaves on MERKLE at level 0) to the root. A row receives each child that is on a path
and takes the other as a free digest (committed by the root), compresses them (COMPRESS), and
sends itself one level up. Since the root is received once, every (level, index) has one row
and every leaf one program or input row.

Commitment table (fixed height 8, fixed columns mark row 0 image 0, row 1 the input, row 2
the public output, rows 3… images 1…): each receives its tree's root at the public depth and
shows compress(root, header) = the public hash, the header made of public values
(commitment.py). The rows of image 0, input and output always exist, so those hashes are
always proven; a further image's row is real when the public values mark the image used.
Image rows also answer IMAGE lookups (the header fields chips need, by image index).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import Expr, sum_exprs
from heliostat.zkvm import public_values as pv
from heliostat.zkvm.buses import MAX_IMAGES, Bus
from heliostat.zkvm.commitment import TREE_INPUT, TREE_OUTPUT, image_tree
from heliostat.zkvm.layout import Layout, Row

NODE = Layout()
for _n in ("is_real", "tree", "level", "index", "has_l", "has_r"):
    NODE.add(_n)
NODE.add("left", 8)
NODE.add("right", 8)
NODE.add("out", 8)


class MerkleChip:
    """Node rows."""

    name = "merkle"
    width = NODE.width

    def preprocessed_trace(self) -> None:
        """No fixed columns."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """Children in, compression, self out."""
        r = Row(ab.main.local, NODE)
        real, has_l, has_r = r.one("is_real"), r.one("has_l"), r.one("has_r")
        for name in ("is_real", "has_l", "has_r"):
            ab.assert_bool(r.one(name), f"{name} is boolean")
        ab.assert_zero((has_l + has_r) * (1 - real), "children only on real rows")
        tree, level, index = r.one("tree"), r.one("level"), r.one("index")
        left, right, out = r.many("left"), r.many("right"), r.many("out")
        ab.receive(Bus.MERKLE, [tree, level - 1, index * 2, *left], has_l, "left child")
        ab.receive(Bus.MERKLE, [tree, level - 1, index * 2 + 1, *right], has_r, "right child")
        ab.send(Bus.COMPRESS, [*left, *right, *out], real, "node digest")
        ab.send(Bus.MERKLE, [tree, level, index, *out], real, "node")


_COMMIT_ROWS = 8
# fixed columns of the commitment table: is_input, is_output, then one flag per image
COMMIT_FIXED = 2 + MAX_IMAGES
COMMIT_ROW_OF_IMAGE = (0, *range(3, 2 + MAX_IMAGES))  # image 0 on row 0, images 1… from row 3
COMMIT = Layout()
COMMIT.add("root", 8)
COMMIT.add("m_image")  # IMAGE lookups answered by an image row


class CommitmentChip:
    """The image, input and output commitments, and the IMAGE table of the public images."""

    name = "commitment"
    width = COMMIT.width

    def preprocessed_trace(self) -> NDArray[np.uint32]:
        """Return the fixed columns (is_input, is_output, is_image_0 … is_image_{M−1})."""
        fixed = np.zeros((_COMMIT_ROWS, COMMIT_FIXED), dtype=np.uint32)
        fixed[1, 0] = 1
        fixed[2, 1] = 1
        for image, row in enumerate(COMMIT_ROW_OF_IMAGE):
            fixed[row, 2 + image] = 1
        return fixed

    def eval(self, ab: AirBuilder) -> None:
        """Root at the public depth; compress(root, header) = the public hash; IMAGE answers."""
        is_input, is_output, *is_img = ab.preprocessed.local
        r = Row(ab.main.local, COMMIT)
        root = r.many("root")
        p = {n: ab.public(i) for n, i in pv.FIELDS.items()}

        def img(name: str) -> Expr:  # the image row's field
            return sum_exprs(is_img[i] * p[pv.image_field(i, name)] for i in range(MAX_IMAGES))

        used = is_img[0] + sum_exprs(
            is_img[i] * p[pv.image_field(i, "used")] for i in range(1, MAX_IMAGES)
        )
        depth = img("depth") + is_input * p["input_depth"] + is_output * p["output_depth"]
        tree = sum_exprs(is_img[i] * image_tree(i) for i in range(MAX_IMAGES))
        tree = tree + is_input * TREE_INPUT + is_output * TREE_OUTPUT
        real = used + is_input + is_output
        ab.receive(Bus.MERKLE, [tree, depth, 0, *root], real, "root")
        ro_last, ro_tail = img("ro_last"), img("ro_tail")
        image_header: list[Expr | int] = [
            img("depth"),
            img("entry_pc"),
            img("text_start"),
            img("text_len"),
            ro_last * 8 + ro_tail,
            0,
            0,
            0,
        ]
        input_len = p["input_last"] * 8 + p["input_tail"]
        input_header: list[Expr | int] = [
            p["input_depth"],
            input_len,
            p["heap_size"],
            p["budget"],
            0,
            0,
            0,
            0,
        ]
        output_len = p["output_len_0"] + p["output_len_1"] * 65536
        output_header: list[Expr | int] = [p["output_depth"], output_len, 0, 0, 0, 0, 0, 0]
        header = [
            a + is_input * b + is_output * c
            for a, b, c in zip(image_header, input_header, output_header, strict=True)
        ]
        digest = [
            img(f"hash_{k}") + is_input * p[f"input_hash_{k}"] + is_output * p[f"output_hash_{k}"]
            for k in range(8)
        ]
        ab.send(Bus.COMPRESS, [*root, *header, *digest], real, "sealed root")
        # IMAGE: (index, entry, text start, text length, last word, tail) of a used image
        m_image = r.one("m_image")
        ab.assert_zero(m_image * (1 - used), "only used images answer IMAGE")
        index = sum_exprs(is_img[i] * i for i in range(1, MAX_IMAGES))
        fields = [img("entry_pc"), img("text_start"), img("text_len"), ro_last, ro_tail]
        ab.send(Bus.IMAGE, [index, *fields], m_image, "image header")


def generate_nodes(
    tree: int, levels: list[NDArray[np.uint32]], touched: list[int]
) -> NDArray[np.int64]:
    """Node rows for the paths from ``touched`` leaves (levels from tree_levels)."""
    depth = len(levels) - 1
    rows = []
    below = set(touched)
    for level in range(1, depth + 1):
        here = sorted({i >> 1 for i in below}) if below else ([0] if level == depth else [])
        for j in here:
            rows.append(
                (
                    tree,
                    level,
                    j,
                    int(2 * j in below),
                    int(2 * j + 1 in below),
                    levels[level - 1][2 * j],
                    levels[level - 1][2 * j + 1],
                    levels[level][j],
                )
            )
        below = set(here)
    t = np.zeros((len(rows), NODE.width), dtype=np.int64)
    for i, (tr, level, j, hl, hr, left, right, out) in enumerate(rows):
        t[i, NODE.index("is_real")] = 1
        t[i, NODE.index("tree")] = tr
        t[i, NODE.index("level")] = level
        t[i, NODE.index("index")] = j
        t[i, NODE.index("has_l")] = hl
        t[i, NODE.index("has_r")] = hr
        t[i, NODE.span("left")] = left
        t[i, NODE.span("right")] = right
        t[i, NODE.span("out")] = out
    return t
