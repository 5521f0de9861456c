"""A strict, dependency-free ELF64 parser with sbpf's checks (anza-xyz/sbpf v0.21 src/elf_parser).

It reads headers, sections, the dynamic table, dynamic relocations and the dynamic symbol
table, and fails with the same error sbpf's parser fails with on malformed input, so that
truncated or corrupted ELFs are rejected cleanly (`ElfError`), never with a crash.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from heliostat.svm.errors import ElfError

ELFMAG = b"\x7fELF"
ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_NONE = 2, 1, 1, 0
EM_BPF, EM_SBPF, ET_DYN = 247, 263, 3
PT_LOAD, PT_DYNAMIC = 1, 2
SHT_NULL, SHT_SYMTAB, SHT_STRTAB, SHT_DYNAMIC, SHT_NOBITS, SHT_DYNSYM = 0, 2, 3, 6, 8, 11
SHF_WRITE, SHF_ALLOC = 0x1, 0x2
STT_FUNC = 2
DT_NULL, DT_SYMTAB, DT_REL, DT_RELSZ, DT_RELENT, DT_NUM = 0, 6, 17, 18, 19, 35
SECTION_NAME_LENGTH_MAXIMUM = 16
SYMBOL_NAME_LENGTH_MAXIMUM = 64

EHDR = struct.Struct("<4sBBBBB7sHHIQQQIHHHHHH")  # 64 bytes
PHDR = struct.Struct("<IIQQQQQQ")  # 56 bytes
SHDR = struct.Struct("<IIQQQQIIQQ")  # 64 bytes
SYM = struct.Struct("<IBBHQQ")  # 24 bytes
REL = struct.Struct("<QQ")  # 16 bytes
DYN = struct.Struct("<QQ")  # 16 bytes
ALIGN = 8  # alignment of every ELF64 record type

_PARSER_MESSAGES = {
    "InvalidFileHeader": "invalid file header",
    "InvalidSectionHeader": "invalid section header",
    "InvalidString": "invalid string",
    "InvalidSize": "invalid size",
    "Overlap": "values overlap",
    "SectionNotInOrder": "sections not in ascending order",
    "NoSectionNameStringTable": "no section name string table found",
    "InvalidDynamicSectionTable": "invalid dynamic section table",
    "InvalidRelocationTable": "invalid relocation table",
    "InvalidAlignment": "invalid alignment",
    "NoStringTable": "no string table",
    "NoDynamicStringTable": "no dynamic string table",
}


def parse_error(kind: str, detail: str | None = None) -> ElfError:
    """Build the `ElfError` sbpf's loader reports for a parser error (`From<ElfParserError>`)."""
    if kind == "OutOfBounds":
        return ElfError("ValueOutOfBounds", "Offset or value is out of bounds")
    if kind == "InvalidProgramHeader":
        return ElfError("InvalidProgramHeader", "Invalid ELF program header")
    text = detail if detail is not None else _PARSER_MESSAGES[kind]
    return ElfError("FailedToParse", f"Failed to parse ELF file: {text}", parser_error=kind)


@dataclass(frozen=True)
class Header:
    """The fields of the ELF file header that the loader uses."""

    ident_class: int
    ident_data: int
    ident_version: int
    osabi: int
    e_type: int
    e_machine: int
    e_version: int
    e_entry: int
    e_phoff: int
    e_shoff: int
    e_flags: int
    e_ehsize: int
    e_phentsize: int
    e_phnum: int
    e_shentsize: int
    e_shnum: int
    e_shstrndx: int


@dataclass(frozen=True)
class ProgramHeader:
    """An ELF64 program header."""

    p_type: int
    p_flags: int
    p_offset: int
    p_vaddr: int
    p_paddr: int
    p_filesz: int
    p_memsz: int
    p_align: int


@dataclass(frozen=True)
class Section:
    """An ELF64 section header."""

    sh_name: int
    sh_type: int
    sh_flags: int
    sh_addr: int
    sh_offset: int
    sh_size: int
    sh_link: int
    sh_info: int
    sh_addralign: int
    sh_entsize: int

    def file_range(self) -> tuple[int, int]:
        """(start, end) of its bytes in the file; empty for NOBITS (sbpf: unwrap_or_default)."""
        if self.sh_type == SHT_NOBITS:
            return (0, 0)
        return (self.sh_offset, _sat_add(self.sh_offset, self.sh_size))

    def vm_contains(self, address: int) -> bool:
        """Whether ``address`` lies in [sh_addr, sh_addr + sh_size)."""
        return self.sh_addr <= address < _sat_add(self.sh_addr, self.sh_size)

    def is_writable(self) -> bool:
        """ALLOC and WRITE flags both set."""
        return self.sh_flags & (SHF_ALLOC | SHF_WRITE) == SHF_ALLOC | SHF_WRITE


@dataclass(frozen=True)
class Symbol:
    """An ELF64 symbol."""

    st_name: int
    st_info: int
    st_other: int
    st_shndx: int
    st_value: int
    st_size: int

    def is_function(self) -> bool:
        """STT_FUNC in the low nibble of st_info."""
        return self.st_info & 0xF == STT_FUNC


U64_MAX = (1 << 64) - 1


def _sat_add(a: int, b: int) -> int:
    return min(a + b, U64_MAX)


def _checked_add(a: int, b: int) -> int:
    if a + b > U64_MAX:
        raise parse_error("OutOfBounds")
    return a + b


def _no_overlap(a: tuple[int, int], b: tuple[int, int]) -> None:
    if not (a[1] <= b[0] or b[1] <= a[0]):
        raise parse_error("Overlap")


class Elf64:
    """A parsed ELF64 file (sbpf's `Elf64::parse`, check for check)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        if len(data) < EHDR.size:
            raise parse_error("OutOfBounds")
        fields = EHDR.unpack_from(data, 0)
        magic, cls, enc, ver, osabi, _abiver, _pad = fields[:7]
        self.header = Header(cls, enc, ver, osabi, *fields[7:])
        h = self.header
        if (
            magic != ELFMAG
            or cls != ELFCLASS64
            or enc != ELFDATA2LSB
            or ver != EV_CURRENT
            or h.e_version != EV_CURRENT
            or h.e_ehsize != EHDR.size
            or h.e_phentsize != PHDR.size
            or h.e_shentsize != SHDR.size
            or h.e_shstrndx >= h.e_shnum
        ):
            raise parse_error("InvalidFileHeader")
        file_header = (0, EHDR.size)
        ph_range = (h.e_phoff, _checked_add(h.e_phoff, _checked_mul(PHDR.size, h.e_phnum)))
        _no_overlap(file_header, ph_range)
        self.program_headers = [
            ProgramHeader(*PHDR.unpack_from(data, off))
            for off in self._records(ph_range, PHDR.size)
        ]
        sh_range = (h.e_shoff, _checked_add(h.e_shoff, _checked_mul(SHDR.size, h.e_shnum)))
        _no_overlap(file_header, sh_range)
        _no_overlap(ph_range, sh_range)
        self.sections = [
            Section(*SHDR.unpack_from(data, off)) for off in self._records(sh_range, SHDR.size)
        ]
        if not self.sections or self.sections[0].sh_type != SHT_NULL:
            raise parse_error("InvalidSectionHeader")
        vaddr = 0
        for ph in self.program_headers:
            if ph.p_type != PT_LOAD:
                continue
            if ph.p_vaddr < vaddr:
                raise parse_error("InvalidProgramHeader")
            if _checked_add(ph.p_offset, ph.p_filesz) > len(data):
                raise parse_error("OutOfBounds")
            vaddr = ph.p_vaddr
        offset = 0
        for sh in self.sections:
            if sh.sh_type == SHT_NOBITS:
                continue
            section_range = (sh.sh_offset, _checked_add(sh.sh_offset, sh.sh_size))
            _no_overlap(section_range, file_header)
            _no_overlap(section_range, ph_range)
            _no_overlap(section_range, sh_range)
            if section_range[0] < offset:
                raise parse_error("SectionNotInOrder")
            offset = section_range[1]
            if offset > len(data):
                raise parse_error("OutOfBounds")
        self.shstrtab = self.sections[h.e_shstrndx] if h.e_shstrndx != 0 else None
        self.symtab: Section | None = None
        self.strtab: Section | None = None
        self.dynstr: Section | None = None
        self._parse_sections()
        self.dynamic = [0] * DT_NUM
        self.relocations: list[tuple[int, int]] | None = None
        self.dynamic_symbols: list[Symbol] | None = None
        self._parse_dynamic()

    # ---------------------------------------------------------------------------------------

    def _records(self, span: tuple[int, int], size: int) -> range:
        """Offsets of the fixed-size records in ``span`` (sbpf's `slice_from_bytes` checks)."""
        start, end = span
        length = max(end - start, 0)
        if length % size:
            raise parse_error("InvalidSize")
        if start > end or end > len(self.data):
            raise parse_error("OutOfBounds")
        if start % ALIGN:
            raise parse_error("InvalidAlignment")
        return range(start, end, size)

    def string_in_section(self, section: Section, offset: int, maximum: int) -> bytes:
        """Read a NUL-terminated string at ``offset`` in a STRTAB section (at most ``maximum``)."""
        if section.sh_type != SHT_STRTAB:
            raise parse_error("InvalidSectionHeader")
        start = _checked_add(section.sh_offset, offset)
        end = min(_checked_add(section.sh_offset, section.sh_size), _checked_add(start, maximum))
        if start > end or end > len(self.data):
            raise parse_error("OutOfBounds")
        raw = self.data[start:end]
        nul = raw.find(b"\x00")
        if nul < 0:
            shown = raw.decode("utf-8", errors="replace")
            raise parse_error(
                "StringTooLong",
                f"Section or symbol name `{shown}` is longer than `{maximum}` bytes",
            )
        return raw[:nul]

    def section_name(self, section: Section) -> bytes:
        """Return the name of ``section`` (at most 16 bytes, as sbpf allows)."""
        if self.shstrtab is None:
            raise parse_error("NoSectionNameStringTable")
        return self.string_in_section(self.shstrtab, section.sh_name, SECTION_NAME_LENGTH_MAXIMUM)

    def dynamic_symbol_name(self, st_name: int) -> bytes:
        """Return a name from .dynstr (at most 64 bytes)."""
        if self.dynstr is None:
            raise parse_error("NoDynamicStringTable")
        return self.string_in_section(self.dynstr, st_name, SYMBOL_NAME_LENGTH_MAXIMUM)

    def _parse_sections(self) -> None:
        if self.shstrtab is None:
            raise parse_error("NoSectionNameStringTable")
        for sh in self.sections:
            name = self.section_name(sh)
            attribute = {b".symtab": "symtab", b".strtab": "strtab", b".dynstr": "dynstr"}.get(name)
            if attribute is not None:
                if getattr(self, attribute) is not None:
                    raise parse_error("InvalidSectionHeader")
                setattr(self, attribute, sh)

    def _parse_dynamic(self) -> None:
        table: list[tuple[int, int]] | None = None
        dyn_ph = next((ph for ph in self.program_headers if ph.p_type == PT_DYNAMIC), None)
        if dyn_ph is not None:
            try:
                table = self._dyn_entries(dyn_ph.p_offset, dyn_ph.p_filesz)
            except ElfError:
                table = None  # sbpf falls back to the section header
        if table is None:
            dyn_sh = next((sh for sh in self.sections if sh.sh_type == SHT_DYNAMIC), None)
            if dyn_sh is None:
                return
            try:
                table = self._dyn_entries(dyn_sh.sh_offset, dyn_sh.sh_size)
            except ElfError:
                raise parse_error("InvalidDynamicSectionTable") from None
        for tag, value in table:
            if tag == DT_NULL:
                break
            if tag < DT_NUM:
                self.dynamic[tag] = value
        self.relocations = self._parse_relocations()
        self.dynamic_symbols = self._parse_dynamic_symbols()

    def _dyn_entries(self, offset: int, size: int) -> list[tuple[int, int]]:
        span = (offset, _checked_add(offset, size))
        return [DYN.unpack_from(self.data, off) for off in self._records(span, DYN.size)]

    def _parse_relocations(self) -> list[tuple[int, int]] | None:
        vaddr = self.dynamic[DT_REL]
        if vaddr == 0:
            return None
        if self.dynamic[DT_RELENT] != REL.size:
            raise parse_error("InvalidDynamicSectionTable")
        size = self.dynamic[DT_RELSZ]
        if size == 0:
            raise parse_error("InvalidDynamicSectionTable")
        offset: int | None = None
        for ph in self.program_headers:
            if ph.p_vaddr <= vaddr < _checked_add(ph.p_vaddr, ph.p_memsz):
                offset = _checked_add(vaddr - ph.p_vaddr, ph.p_offset)
                break
        if offset is None:
            match = next((sh for sh in self.sections if sh.sh_addr == vaddr), None)
            if match is None:
                raise parse_error("InvalidDynamicSectionTable")
            offset = match.sh_offset
        span = (offset, _checked_add(offset, size))
        try:
            records = self._records(span, REL.size)
        except ElfError:
            raise parse_error("InvalidDynamicSectionTable") from None
        return [REL.unpack_from(self.data, off) for off in records]

    def _parse_dynamic_symbols(self) -> list[Symbol] | None:
        vaddr = self.dynamic[DT_SYMTAB]
        if vaddr == 0:
            return None
        match = next((sh for sh in self.sections if sh.sh_addr == vaddr), None)
        if match is None:
            raise parse_error("InvalidDynamicSectionTable")
        if match.sh_type not in (SHT_SYMTAB, SHT_DYNSYM):
            raise parse_error("InvalidSectionHeader")
        span = (match.sh_offset, _checked_add(match.sh_offset, match.sh_size))
        return [Symbol(*SYM.unpack_from(self.data, off)) for off in self._records(span, SYM.size)]


def _checked_mul(a: int, b: int) -> int:
    if a * b > U64_MAX:
        raise parse_error("OutOfBounds")
    return a * b
