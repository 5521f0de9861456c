"""The public values of a zkVM proof: what the verifier is told, and their field layout.

`PublicValues` is what `verify(proof, public_values)` takes. `to_fields` is the vector the
STARK sees; `FIELDS` names every position. The image part describes the code image (entry,
text position and length, region length); the input part what the execution started from;
the output part how it ended and what it published (`heliostat_publish`, committed like the
input). Images 1 … MAX_IMAGES − 1 (`images`) are further code images the run may switch into
(unused entries are zero and marked unused). An output of at least 32 bytes shows its first
32 bytes in the clear too (`output_prefix`, 16 limbs): a kernel publishes its head's
keccak256 there, the hash L1 checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from heliostat.stark.field import P
from heliostat.zkvm.buses import (
    MAX_IMAGES,
    MAX_OUTPUT,
    NUM_REGISTERS,
    OUTPUT_PREFIX_WORDS,
    limbs,
)
from heliostat.zkvm.errors import PublicValuesError
from heliostat.zkvm.status import Status

_NAMES = [
    *[f"image_hash_{k}" for k in range(8)],
    "image_depth",  # depth of the image's word tree
    *[f"input_hash_{k}" for k in range(8)],
    "input_depth",
    "entry_pc",
    "text_start",  # first text word of the program region
    "text_len",  # text slots
    "text_vaddr_0",  # low limbs of the text's virtual address 2^32 + 8·text_start
    "text_vaddr_1",
    "text_bytes_0",  # limbs of 8·text_len
    "text_bytes_1",
    "ro_last",  # last word of the program region
    "ro_tail",  # valid bytes in that word (1..8)
    "budget",
    "heap_size",
    "input_last",  # last word of the input region (−1 mod p when the input is empty)
    "input_tail",
    "input_read_only",  # 1: stores to the input region fault (a kernel's input), else 0
    *[f"reg{r}_{k}" for r in range(NUM_REGISTERS) for k in range(4)],
    "status",
    "final_pc",
    "cu_final",
    *[f"r0_{k}" for k in range(4)],
    *[f"output_hash_{k}" for k in range(8)],  # commitment.output_commitment of the output
    "output_depth",
    "output_len_0",  # limbs of the output's length in bytes
    "output_len_1",
    "output_last",  # last word of the output (−1 mod p when it is empty)
]
# image 0's fields are the ones above; images 1 … MAX_IMAGES − 1 have their own
IMAGE_FIELDS = ("depth", "entry_pc", "text_start", "text_len", "ro_last", "ro_tail", "used")
for _i in range(1, MAX_IMAGES):
    _NAMES += [f"img{_i}_hash_{k}" for k in range(8)]
    _NAMES += [f"img{_i}_{f}" for f in IMAGE_FIELDS]
# the output's first 32 bytes, as the output table's limbs (word w, limb k = bytes 8w + 2k and
# 8w + 2k + 1, little-endian), and whether they are shown (an output of at least 32 bytes)
_NAMES += ["out_prefix_on", *[f"out_prefix_{j}" for j in range(4 * OUTPUT_PREFIX_WORDS)]]
FIELDS: dict[str, int] = {name: i for i, name in enumerate(_NAMES)}
PREFIX_BYTES = 8 * OUTPUT_PREFIX_WORDS
COUNT = len(_NAMES)
MAX_CU = 1 << 30  # the verifier requires the final meter below this (see docs/zkvm.md)


def prefix_of(output: bytes) -> bytes:
    """Return what a statement shows of ``output`` in the clear: its first 32 bytes, if any."""
    return output[:PREFIX_BYTES] if len(output) >= PREFIX_BYTES else b""


def prefix_limbs(prefix: bytes) -> list[int]:
    """Return the 16 public limbs of a 32-byte output prefix (zeros for none)."""
    padded = prefix or bytes(PREFIX_BYTES)
    return [int.from_bytes(padded[2 * j : 2 * j + 2], "little") for j in range(PREFIX_BYTES // 2)]


def index(name: str) -> int:
    """Position of a named public value."""
    return FIELDS[name]


def image_field(image: int, name: str) -> str:
    """Name of a field of image ``image`` ("hash_k" or one of IMAGE_FIELDS but "used").

    Image 0 is always used; its fields keep their historical names.
    """
    if image == 0:
        return "image_" + name if name.startswith("hash_") or name == "depth" else name
    return f"img{image}_{name}"


@dataclass(frozen=True)
class ImageEntry:
    """A further code image of the statement: its hash and the header it was sealed with."""

    hash: tuple[int, ...]
    depth: int
    entry_pc: int
    text_start: int
    text_len: int
    ro_len: int


@dataclass(frozen=True)
class PublicValues:
    """The statement of one proven execution."""

    entry_pc: int
    text_start: int
    text_len: int
    ro_len: int  # bytes in the program region
    budget: int
    heap_size: int
    input_len: int  # bytes in the input region
    registers: tuple[int, ...]  # r0..r10 at entry
    status: Status
    final_pc: int
    cu_final: int
    r0: int
    image_hash: tuple[int, ...] = (0,) * 8
    image_depth: int = 1
    input_hash: tuple[int, ...] = (0,) * 8
    input_depth: int = 1
    output_hash: tuple[int, ...] = (0,) * 8  # commitment.output_commitment(published bytes)
    output_depth: int = 1
    output_len: int = 0
    input_read_only: bool = False
    images: tuple[ImageEntry, ...] = ()  # images 1, 2, … (at most MAX_IMAGES − 1)
    output_prefix: bytes = b""  # prefix_of(published bytes): 32 bytes, or none if shorter

    @property
    def compute_units(self) -> int:
        """Units consumed (sbpf's count, before agave's deplete-on-fault rule)."""
        return self.budget - self.cu_final

    def to_fields(self) -> list[int]:
        """Return the vector of field elements the STARK proves against."""
        if self.ro_len <= 0:
            raise PublicValuesError("empty program region")
        if len(self.registers) != NUM_REGISTERS:
            raise PublicValuesError(
                "initial registers", expected=NUM_REGISTERS, got=len(self.registers)
            )
        v = {
            "entry_pc": self.entry_pc,
            "text_start": self.text_start,
            "text_len": self.text_len,
            "text_vaddr_0": (8 * self.text_start) & 0xFFFF,
            "text_vaddr_1": (8 * self.text_start) >> 16,
            "text_bytes_0": (8 * self.text_len) & 0xFFFF,
            "text_bytes_1": (8 * self.text_len) >> 16,
            "ro_last": (self.ro_len - 1) // 8,
            "ro_tail": self.ro_len - 8 * ((self.ro_len - 1) // 8),
            "budget": self.budget,
            "heap_size": self.heap_size,
            "input_last": (self.input_len - 1) // 8,
            "input_tail": self.input_len - 8 * ((self.input_len - 1) // 8),
            "status": int(self.status),
            "final_pc": self.final_pc,
            "cu_final": self.cu_final,
        }
        for k in range(8):
            v[f"image_hash_{k}"] = self.image_hash[k]
            v[f"input_hash_{k}"] = self.input_hash[k]
        v["image_depth"] = self.image_depth
        for k in range(8):
            v[f"output_hash_{k}"] = self.output_hash[k]
        v["output_depth"] = self.output_depth
        v["input_read_only"] = int(bool(self.input_read_only))
        if not 0 <= self.output_len <= MAX_OUTPUT:
            raise PublicValuesError(
                "output length out of range", expected=(0, MAX_OUTPUT), got=self.output_len
            )
        v["output_len_0"] = self.output_len & 0xFFFF
        v["output_len_1"] = self.output_len >> 16
        v["output_last"] = (self.output_len - 1) // 8
        v["input_depth"] = self.input_depth
        for r, value in enumerate(self.registers):
            for k, limb in enumerate(limbs(value)):
                v[f"reg{r}_{k}"] = limb
        for k, limb in enumerate(limbs(self.r0)):
            v[f"r0_{k}"] = limb
        for name in ("budget", "cu_final"):
            if not 0 <= v[name] < MAX_CU:
                raise PublicValuesError(f"{name} out of range", expected=(0, MAX_CU), got=v[name])
        self._image_fields(v)
        shown = PREFIX_BYTES if self.output_len >= PREFIX_BYTES else 0
        if len(self.output_prefix) != shown:
            raise PublicValuesError(
                f"an output of {self.output_len} bytes shows its first {shown} in the clear "
                "(output_prefix)", expected=shown, got=len(self.output_prefix),
            )  # fmt: skip
        v["out_prefix_on"] = int(bool(self.output_prefix))
        for j, limb in enumerate(prefix_limbs(self.output_prefix)):
            v[f"out_prefix_{j}"] = limb
        return [v[name] % P for name in _NAMES]

    def _image_fields(self, v: dict[str, int]) -> None:
        if len(self.images) > MAX_IMAGES - 1:
            raise PublicValuesError(
                "too many code images", expected=MAX_IMAGES - 1, got=len(self.images)
            )
        for i in range(1, MAX_IMAGES):
            entry = self.images[i - 1] if i <= len(self.images) else None
            for k in range(8):
                v[f"img{i}_hash_{k}"] = entry.hash[k] if entry else 0
            if entry is not None and (entry.ro_len <= 0 or len(entry.hash) != 8):
                raise PublicValuesError("malformed code image", got=i)
            last = (entry.ro_len - 1) // 8 if entry else 0
            v[f"img{i}_depth"] = entry.depth if entry else 0
            v[f"img{i}_entry_pc"] = entry.entry_pc if entry else 0
            v[f"img{i}_text_start"] = entry.text_start if entry else 0
            v[f"img{i}_text_len"] = entry.text_len if entry else 0
            v[f"img{i}_ro_last"] = last
            v[f"img{i}_ro_tail"] = entry.ro_len - 8 * last if entry else 0
            v[f"img{i}_used"] = int(entry is not None)
