"""The code images of one proof (trace side): public entries, image trees and commitment rows.

Image 0 is the image the run starts and halts in; images 1 … MAX_IMAGES − 1 are further
images the run may switch into. Each image has its own Merkle tree (`image_tree(i)`), sealed
with its header into its public hash on its commitment row; program-table rows of image i are
leaves of tree i, and the image's commitment row answers the IMAGE lookups of those rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from heliostat.svm.executable import Executable
from heliostat.zkvm import commitment, merkle_chip, program_chip
from heliostat.zkvm.buses import MAX_IMAGES
from heliostat.zkvm.errors import UnsupportedExecutionError
from heliostat.zkvm.public_values import ImageEntry

I64 = NDArray[np.int64]


def image_entry(exe: Executable) -> ImageEntry:
    """Return the public entry of a code image: its hash and the header it is sealed with."""
    info = program_chip.ImageInfo.of(exe)
    hash_, depth = commitment.image_commitment(exe)
    return ImageEntry(hash_, depth, exe.entry_pc, info.text_start, info.text_len, info.ro_len)


def check_count(images: Sequence[Executable]) -> None:
    """Refuse more images than a proof holds."""
    if not 1 <= len(images) <= MAX_IMAGES:
        raise UnsupportedExecutionError(
            "code images per proof", expected=(1, MAX_IMAGES), got=len(images)
        )


def header(exe: Executable) -> tuple[int, int, int, int, int]:
    """Return the IMAGE fields of an image: entry pc, text start and length, last word, tail."""
    info = program_chip.ImageInfo.of(exe)
    last = (info.ro_len - 1) // 8
    return exe.entry_pc, info.text_start, info.text_len, last, info.ro_len - 8 * last


def image_rows(
    images: Sequence[Executable], program: I64, lookups: Sequence[int] = ()
) -> tuple[I64, I64, list[NDArray[np.uint64]]]:
    """Merkle node rows of every image tree, the commitment table with its image rows filled.

    Also return the (root, header) compressions the image rows request. ``program`` is the
    program table (rows of every image); an image row's IMAGE multiplicity is its program row
    count plus ``lookups[i]`` (other chips' IMAGE lookups of image i, e.g. callx rows).
    """
    check_count(images)
    lay = program_chip.LAYOUT
    col_image, col_word = lay.index("image"), lay.index("word")
    commit = np.zeros((8, merkle_chip.COMMIT.width), dtype=np.int64)
    roots = merkle_chip.COMMIT.span("root")
    nodes: list[I64] = []
    requests: list[NDArray[np.uint64]] = []
    for i, exe in enumerate(images):
        limbs = commitment.word_limbs(exe.ro_section)
        depth = commitment.depth_of(limbs.shape[0])
        levels = commitment.tree_levels(commitment.leaves(limbs, commitment.image_tags(exe), depth))
        mine = program[:, col_image] == i
        touched = program[mine, col_word].tolist()
        nodes.append(merkle_chip.generate_nodes(commitment.image_tree(i), levels, touched))
        row = merkle_chip.COMMIT_ROW_OF_IMAGE[i]
        commit[row, roots] = levels[-1][0]
        extra = lookups[i] if i < len(lookups) else 0
        commit[row, merkle_chip.COMMIT.index("m_image")] = int(mine.sum()) + extra
        header = np.array(commitment.image_header(exe, depth), dtype=np.uint64)
        requests.append(np.concatenate([levels[-1][0].astype(np.uint64), header]))
    return np.concatenate(nodes), commit, requests
