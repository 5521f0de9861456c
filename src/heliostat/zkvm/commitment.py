"""Commitments to code images and inputs: Poseidon2 Merkle trees over their 8-byte words.

A tree has 2^depth leaves (depth = ⌈log2 words⌉, at least 1); leaf w is the 8-element digest
(limb0, limb1, limb2, limb3, tag, 0, 0, 0) of word w (zero past the end), where `tag` is a
`call imm` slot's resolution in an image (0 none, 1 syscall, 2 unresolved, 3 + pc a function)
and 0 in an input. A node is compress(left, right). The published hash is
compress(root, header): for an image (depth, entry pc, text start word, text length, region
length, 0, 0, 0), for an input (depth, length, heap size, compute budget, 0, 0, 0, 0), for the
public output (depth, length, 0, 0, 0, 0, 0, 0). These
functions are the definition (the verifier's side, or whoever publishes an image hash); the
prover proves the same tree sparsely (merkle_chip).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.poseidon2 import compress, compress_batch
from heliostat.svm import opcodes as op
from heliostat.svm.executable import C_AUX, C_OPC, CALL_UNRESOLVED, SYSCALL_BASE, Executable

TREE_IMAGE, TREE_INPUT, TREE_OUTPUT = 1, 2, 3
IMAGE_TREE_STRIDE = 3  # image i's tree is TREE_IMAGE + 3·i: 1, 4, 7, … (never 2 or 3)


def image_tree(image: int) -> int:
    """Tree id of code image ``image`` (linear in the index, so chips can compute it)."""
    return TREE_IMAGE + IMAGE_TREE_STRIDE * image


def depth_of(words: int) -> int:
    """Tree depth for a region of ``words`` words."""
    return max(1, (max(words, 1) - 1).bit_length())


def word_limbs(data: bytes) -> NDArray[np.uint64]:
    """(words, 4) limbs of a byte string (the last word zero-padded)."""
    padded = data + bytes(-len(data) % 8)
    return np.frombuffer(padded, dtype="<u2").reshape(-1, 4).astype(np.uint64)


def image_tags(exe: Executable) -> NDArray[np.uint64]:
    """Return the tag of every word of the program region."""
    words = (len(exe.ro_section) + 7) // 8
    tags = np.zeros(words, dtype=np.uint64)
    start = exe.text_offset // 8
    calls = np.flatnonzero(exe.code[:, C_OPC] == op.CALL_IMM)
    for pc in calls.tolist():
        aux = int(exe.code[pc, C_AUX])
        tags[start + pc] = 1 if aux <= SYSCALL_BASE else 2 if aux == CALL_UNRESOLVED else 3 + aux
    return tags


def leaves(limbs: NDArray[np.uint64], tags: NDArray[np.uint64], depth: int) -> NDArray[np.uint32]:
    """(2^depth, 8) leaf digests."""
    out = np.zeros((1 << depth, 8), dtype=np.uint32)
    out[: limbs.shape[0], :4] = limbs
    out[: tags.shape[0], 4] = tags
    return out


def tree_levels(leaf_digests: NDArray[np.uint32]) -> list[NDArray[np.uint32]]:
    """All levels, leaves first, root last."""
    levels = [leaf_digests]
    while levels[-1].shape[0] > 1:
        cur = levels[-1]
        levels.append(compress_batch(cur[0::2], cur[1::2]))
    return levels


def image_header(exe: Executable, depth: int) -> tuple[int, ...]:
    """Return the image header absorbed with the root."""
    return (depth, exe.entry_pc, exe.text_offset // 8, exe.text_len, len(exe.ro_section), 0, 0, 0)


def input_header(depth: int, length: int, heap_size: int, budget: int) -> tuple[int, ...]:
    """Return the input header absorbed with the root."""
    return (depth, length, heap_size, budget, 0, 0, 0, 0)


def output_header(depth: int, length: int) -> tuple[int, ...]:
    """Return the public output's header absorbed with the root."""
    return (depth, length, 0, 0, 0, 0, 0, 0)


def seal(root: Sequence[int], header: Sequence[int]) -> tuple[int, ...]:
    """Return the published hash: compress(root, header)."""
    return tuple(int(x) for x in compress([int(x) for x in root], [int(x) for x in header]))


def image_commitment(exe: Executable) -> tuple[tuple[int, ...], int]:
    """(hash, depth) of a code image."""
    limbs = word_limbs(exe.ro_section)
    depth = depth_of(limbs.shape[0])
    root = tree_levels(leaves(limbs, image_tags(exe), depth))[-1][0]
    return seal(root, image_header(exe, depth)), depth


def input_commitment(data: bytes, heap_size: int, budget: int) -> tuple[tuple[int, ...], int]:
    """(hash, depth) of an execution's input."""
    limbs = word_limbs(data)
    depth = depth_of(limbs.shape[0])
    root = tree_levels(leaves(limbs, np.zeros(0, np.uint64), depth))[-1][0]
    return seal(root, input_header(depth, len(data), heap_size, budget)), depth


def output_commitment(data: bytes) -> tuple[tuple[int, ...], int]:
    """(hash, depth) of the public output (what `heliostat_publish` appended, in order)."""
    limbs = word_limbs(data)
    depth = depth_of(limbs.shape[0])
    root = tree_levels(leaves(limbs, np.zeros(0, np.uint64), depth))[-1][0]
    return seal(root, output_header(depth, len(data))), depth
