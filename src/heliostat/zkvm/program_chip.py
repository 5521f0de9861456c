"""The program table: the words of a code image that an execution touches, decoded.

One row per word of the program region that is fetched as an instruction or read as data.
Raw limbs are range-checked (opcode and register bytes, register nibbles, offset and
immediate signs); text rows look their opcode's decode flags up and store the FETCH fields
normalised (docs/zkvm.md, decode.py); `m_fetch` and `m_data` are how often the row is
fetched and how often the memory boundary reads it. The row after an `lddw` is its second
slot, whose immediate is the value's high half. Word indices are bounded by the region, and
the last word's `limit` is the region's length modulo 8. Rows carry the index of their code
image (rows sorted by image, then word): the header fields the bounds use come from an IMAGE
lookup of that index, the leaf goes to that image's tree, and FETCH and PROGRAM_DATA answer
only for that image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.svm import opcodes as op
from heliostat.svm.executable import C_AUX, C_OPC, CALL_UNRESOLVED, SYSCALL_BASE, Executable
from heliostat.zkvm.buses import (
    CALL_TARGET_SYSCALL,
    CALL_TARGET_UNRESOLVED,
    REGION_PROGRAM,
    REGION_SHIFT,
    BitOp,
    Bus,
)
from heliostat.zkvm.commitment import IMAGE_TREE_STRIDE, TREE_IMAGE
from heliostat.zkvm.decode import FLAGS, decode_flags
from heliostat.zkvm.errors import UnsupportedExecutionError
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.u16_chip import LookupCounts

MAX_WORDS = 1 << 16  # program regions up to 512 KiB (word indices are range-checked in 16 bits)
FETCH_FIELDS = (
    "dst_f",
    "src_f",
    "off_f",
    "neg_f",
    "imm_f0",
    "imm_f1",
    "imm_f2",
    "imm_f3",
    "target_f",
)

LAYOUT = Layout()
for _name in (
    "is_real",
    "image",
    "h_entry",  # the image's header (IMAGE lookup)
    "h_text_start",
    "h_text_len",
    "h_ro_last",
    "h_ro_tail",
    "word",
    "is_text",
    "pc",
    "l0",
    "l1",
    "l2",
    "l3",
    "opcode",
    "regs",
    "dst",
    "src",
    "s1",
    "s3",
    *FLAGS,
    "call_fn",
    "call_sys",
    "call_unres",
    "aux",
    *FETCH_FIELDS,
    "m_fetch",
    "m_data",
    "limit",
    "is_last",
    "inv_last",
    "tag",
):
    LAYOUT.add(_name)


class ProgramChip:
    """The AIR of the program table."""

    name = "program"
    width = LAYOUT.width

    def preprocessed_trace(self) -> None:
        """No fixed columns."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """Constrain decoding, normalisation, FETCH and PROGRAM_DATA."""
        r = Row(ab.main.local, LAYOUT)
        nxt = Row(ab.main.next, LAYOUT)
        c = {name: r.one(name) for name in LAYOUT.names()}
        text_start, text_len = c["h_text_start"], c["h_text_len"]
        ro_last, ro_tail = c["h_ro_last"], c["h_ro_tail"]
        real, text, image = c["is_real"], c["is_text"], c["image"]
        header = [image, c["h_entry"], text_start, text_len, ro_last, ro_tail]
        ab.receive(Bus.IMAGE, header, real, "the row's image header")
        for name in ("is_real", "is_text", "call_fn", "call_sys", "call_unres", "is_last"):
            ab.assert_bool(c[name], f"{name} is boolean")
        ab.assert_zero(text * (1 - real), "text rows are real")
        # raw limbs: bytes of limb 0, signs of limbs 1 and 3, range of limb 2
        ab.assert_eq(c["l0"], c["opcode"] + c["regs"] * 256, "limb 0 = opcode, registers")
        ab.assert_eq(c["regs"], c["dst"] + c["src"] * 16, "registers byte = dst, src nibbles")
        ab.send(Bus.BYTES, [c["opcode"], c["regs"]], real, "limb 0 bytes")
        ab.send(Bus.BITWISE, [BitOp.AND, c["regs"], 15, c["dst"]], real, "dst nibble")
        ab.send(Bus.U16_MSB, [c["l1"], c["s1"]], real, "offset sign")
        ab.send(Bus.U16, [c["l2"]], real, "immediate low half")
        ab.send(Bus.U16_MSB, [c["l3"], c["s3"]], real, "immediate sign")
        # bounds of the word index and the last word's limit
        ab.send(Bus.U16, [ro_last - c["word"]], real, "word inside the region")
        ab.assert_zero(c["is_last"] * (c["word"] - ro_last), "the last word is the last")
        ab.assert_zero(
            real * ((c["word"] - ro_last) * c["inv_last"] - 1 + c["is_last"]),
            "a word equal to the last is marked last",
        )
        ab.assert_zero(real * (c["limit"] - 8 - c["is_last"] * (ro_tail - 8)), "limit of the word")
        ab.receive(
            Bus.PROGRAM_DATA,
            [
                c["word"] + REGION_PROGRAM * REGION_SHIFT,
                c["limit"],
                c["l0"],
                c["l1"],
                c["l2"],
                c["l3"],
                image,
            ],
            c["m_data"],
            "data read",
        )
        # text rows: slot index, decode flags, call resolution, normalised fields
        ab.assert_zero(text * (c["pc"] - c["word"] + text_start), "pc of a text word")
        ab.send(Bus.U16, [c["pc"]], text, "pc ≥ 0")
        ab.send(Bus.U16, [text_len - 1 - c["pc"]], text, "pc < text length")
        ab.send(Bus.DECODE, [c["opcode"], *(c[f] for f in FLAGS)], text, "decode flags")
        ab.assert_zero((1 - text) * c["m_fetch"], "only text words are fetched")
        for f in FLAGS:
            ab.assert_zero((1 - text) * c[f], f"{f} only on text rows")
        ab.assert_eq(
            c["call_fn"] + c["call_sys"] + c["call_unres"], c["is_call"], "one call resolution"
        )
        ab.assert_eq(c["dst_f"], c["uses_dst"] * c["dst"], "FETCH dst")
        ab.assert_eq(c["src_f"], c["uses_src"] * c["src"], "FETCH src")
        ab.assert_eq(c["off_f"], c["uses_off"] * c["l1"], "FETCH offset")
        ab.assert_eq(c["neg_f"], c["uses_off"] * c["s1"], "FETCH offset sign")
        low_imm = c["uses_imm"] + c["is_lddw"] + c["call_sys"]
        ab.assert_eq(c["imm_f0"], low_imm * c["l2"], "FETCH imm limb 0")
        ab.assert_eq(c["imm_f1"], low_imm * c["l3"], "FETCH imm limb 1")
        sign_ext = c["uses_imm"] * c["s3"] * 0xFFFF
        for k, limb in ((2, "l2"), (3, "l3")):
            field = c[f"imm_f{k}"]
            ab.assert_zero((1 - c["is_lddw"]) * (field - sign_ext), f"FETCH imm limb {k}")
            ab.when_transition().assert_zero(
                c["is_lddw"] * (field - nxt.one(limb)), f"lddw imm limb {k} from the next slot"
            )
        ab.when_transition().assert_zero(
            c["is_lddw"] * (nxt.one("word") - c["word"] - 1), "lddw's second slot follows"
        )
        ab.when_transition().assert_zero(
            c["is_lddw"] * (nxt.one("image") - image), "… in the same image"
        )
        ab.when_last_row().assert_zero(c["is_lddw"], "lddw is not the last row")
        offset = c["l1"] - c["s1"] * 65536
        ab.assert_eq(
            c["target_f"],
            c["is_jump"] * (c["pc"] + 1 + offset)
            + c["call_fn"] * c["aux"]
            + c["call_sys"] * CALL_TARGET_SYSCALL
            + c["call_unres"] * CALL_TARGET_UNRESOLVED,
            "FETCH target",
        )
        ab.receive(
            Bus.FETCH,
            [c["pc"], c["opcode"], *(c[f] for f in FETCH_FIELDS), image],
            c["m_fetch"],
            "instruction",
        )
        # the word is a leaf of the image tree; its tag binds the call resolution
        ab.assert_eq(
            c["tag"],
            c["call_sys"] + c["call_unres"] * 2 + c["call_fn"] * (c["aux"] + 3),
            "leaf tag = call resolution",
        )
        ab.send(
            Bus.MERKLE,
            [
                TREE_IMAGE + IMAGE_TREE_STRIDE * image,
                0,
                c["word"],
                c["l0"],
                c["l1"],
                c["l2"],
                c["l3"],
                c["tag"],
                0,
                0,
                0,
            ],
            real,
            "image leaf",
        )


@dataclass(frozen=True)
class ImageInfo:
    """Where the text sits in the program region of an executable."""

    text_start: int  # word index
    text_len: int
    ro_len: int

    @staticmethod
    def of(exe: Executable) -> ImageInfo:
        """Read it off an executable (text must start on a word boundary)."""
        if exe.text_offset % 8:
            raise UnsupportedExecutionError("text not 8-byte aligned", got=exe.text_offset)
        if (len(exe.ro_section) + 7) // 8 > MAX_WORDS:
            raise UnsupportedExecutionError(
                "program region too large", expected=8 * MAX_WORDS, got=len(exe.ro_section)
            )
        return ImageInfo(exe.text_offset // 8, exe.text_len, len(exe.ro_section))


def generate(
    exe: Executable,
    fetch_counts: dict[int, int],
    data_counts: dict[int, int],
    lookups: LookupCounts,
    image: int = 0,
) -> NDArray[np.int64]:
    """Rows of image ``image`` for the fetched pcs and the data-read words (word → count)."""
    info = ImageInfo.of(exe)
    ro = exe.ro_section
    words = {info.text_start + pc for pc in fetch_counts} | set(data_counts)
    for pc in fetch_counts:  # an lddw needs its second slot in the table
        if int(exe.code[pc, C_OPC]) == op.LD_DW_IMM:
            words.add(info.text_start + pc + 1)
    order = sorted(words)
    n = len(order)
    t = np.zeros((n, LAYOUT.width), dtype=np.int64)
    col = {name: LAYOUT.index(name) for name in LAYOUT.names()}
    last = (info.ro_len - 1) // 8
    tail = info.ro_len - 8 * last
    for i, word in enumerate(order):
        raw = ro[8 * word : 8 * word + 8].ljust(8, b"\0")
        l0, l1, l2, l3 = (int.from_bytes(raw[2 * k : 2 * k + 2], "little") for k in range(4))
        row = t[i]
        row[col["is_real"]] = 1
        row[col["image"]] = image
        row[col["h_entry"]], row[col["h_text_start"]] = exe.entry_pc, info.text_start
        row[col["h_text_len"]], row[col["h_ro_last"]], row[col["h_ro_tail"]] = (
            info.text_len,
            last,
            tail,
        )
        row[col["word"]] = word
        row[col["l0"]], row[col["l1"]], row[col["l2"]], row[col["l3"]] = l0, l1, l2, l3
        row[col["opcode"]], row[col["regs"]] = l0 & 0xFF, l0 >> 8
        row[col["dst"]], row[col["src"]] = (l0 >> 8) & 15, l0 >> 12
        row[col["s1"]], row[col["s3"]] = l1 >> 15, l3 >> 15
        row[col["limit"]] = tail if word == last else 8
        row[col["is_last"]] = int(word == last)
        row[col["inv_last"]] = 0 if word == last else _inverse(word - last)
        row[col["m_data"]] = data_counts.get(word, 0)
        pc = word - info.text_start
        if 0 <= pc < info.text_len:
            _fill_text_row(row, col, exe, pc, l0, l1, l2, l3, ro, word)
            row[col["m_fetch"]] = fetch_counts.get(pc, 0)
        lookups.byte_pairs(np.array([l0 & 0xFF]), np.array([l0 >> 8]))
        lookups.bitwise(BitOp.AND, np.array([l0 >> 8]), np.array([15]))
        lookups.msb(np.array([l1, l3]))
        lookups.u16(np.array([l2, last - word]))
        if 0 <= pc < info.text_len:
            lookups.u16(np.array([pc, info.text_len - 1 - pc]))
            lookups.decode(np.array([l0 & 0xFF]))
    return t


def _fill_text_row(
    row: NDArray[np.int64],
    col: dict[str, int],
    exe: Executable,
    pc: int,
    l0: int,
    l1: int,
    l2: int,
    l3: int,
    ro: bytes,
    word: int,
) -> None:
    opcode, dst, src = l0 & 0xFF, (l0 >> 8) & 15, l0 >> 12
    flags = dict(zip(FLAGS, decode_flags(opcode), strict=True))
    row[col["is_text"]] = 1
    row[col["pc"]] = pc
    for name, value in flags.items():
        row[col[name]] = value
    call_fn = call_sys = call_unres = aux = 0
    if flags["is_call"]:
        resolved = int(exe.code[pc, C_AUX])
        if resolved <= SYSCALL_BASE:
            call_sys = 1
        elif resolved == CALL_UNRESOLVED:
            call_unres = 1
        else:
            call_fn, aux = 1, resolved
    row[col["call_fn"]], row[col["call_sys"]], row[col["call_unres"]] = (
        call_fn,
        call_sys,
        call_unres,
    )
    row[col["aux"]] = aux
    row[col["tag"]] = call_sys + 2 * call_unres + call_fn * (aux + 3)
    s1, s3 = l1 >> 15, l3 >> 15
    row[col["dst_f"]] = dst * flags["uses_dst"]
    row[col["src_f"]] = src * flags["uses_src"]
    row[col["off_f"]] = l1 * flags["uses_off"]
    row[col["neg_f"]] = s1 * flags["uses_off"]
    low = flags["uses_imm"] + flags["is_lddw"] + call_sys
    row[col["imm_f0"]], row[col["imm_f1"]] = low * l2, low * l3
    if flags["is_lddw"]:
        nxt = ro[8 * word + 8 : 8 * word + 16]
        row[col["imm_f2"]] = int.from_bytes(nxt[4:6], "little")
        row[col["imm_f3"]] = int.from_bytes(nxt[6:8], "little")
    else:
        row[col["imm_f2"]] = row[col["imm_f3"]] = flags["uses_imm"] * s3 * 0xFFFF
    target = 0
    if flags["is_jump"]:
        target = pc + 1 + l1 - 65536 * s1
    elif call_fn:
        target = aux
    elif call_sys:
        target = CALL_TARGET_SYSCALL
    elif call_unres:
        target = CALL_TARGET_UNRESOLVED
    row[col["target_f"]] = target


def _inverse(x: int) -> int:
    from heliostat.stark.field import P

    return pow(x % P, P - 2, P)
