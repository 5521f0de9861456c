"""The linker's handling of what it cannot link: each error comes from a real bad input."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from litesvm_harness import run_on_litesvm

from heliostat.toolchain import build_program, link, link_sources
from heliostat.toolchain.build import SDK_DIR
from heliostat.toolchain.compiler import compile_c, compile_command
from heliostat.toolchain.errors import (
    DuplicateSymbolError,
    InvalidInstructionError,
    LinkError,
    MissingEntrypointError,
    ObjectFormatError,
    UndefinedSymbolError,
    UnknownRelocationError,
    WritableSectionError,
)

ENTRY = "#include <heliostat.h>\nuint64_t entrypoint(const uint8_t *input) {\n"


def program(declarations: str, body: str) -> str:
    """A C program: the SDK header, ``declarations``, then an entrypoint running ``body``."""
    return (
        f"#include <heliostat.h>\n{declarations}\n"
        f"uint64_t entrypoint(const uint8_t *input) {{\n{body}\n}}\n"
    )


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def compile_text(tmp_path: Path, name: str, text: str) -> bytes:
    return compile_c(write(tmp_path, name, text), [SDK_DIR]).data


def test_undefined_function_is_not_taken_for_a_syscall(tmp_path: Path) -> None:
    src = write(tmp_path, "u.c", program("uint64_t not_written(uint64_t);",
                                         "return not_written((uint64_t)input);"))  # fmt: skip
    with pytest.raises(UndefinedSymbolError) as info:
        link_sources(src)
    assert info.value.name == "not_written"
    assert info.value.reason == "undefined_symbol"


def test_undefined_data_symbol(tmp_path: Path) -> None:
    src = write(tmp_path, "d.c", program("extern const uint64_t MISSING[4];",
                                         "return MISSING[input[0] & 3];"))  # fmt: skip
    with pytest.raises(UndefinedSymbolError, match="MISSING"):
        link_sources(src)


def test_extra_syscalls_bind_by_name(tmp_path: Path) -> None:
    declaration = "void heliostat_kernel_call_(uint64_t);"
    src = write(
        tmp_path, "k.c", program(declaration, "heliostat_kernel_call_(input[0]); return 0;")
    )
    with pytest.raises(UndefinedSymbolError):
        link_sources(src)
    linked = link_sources(src, extra_syscalls=["heliostat_kernel_call_"])
    assert linked.syscalls == ("heliostat_kernel_call_",)
    assert b"heliostat_kernel_call_\0" in linked.elf


@pytest.mark.parametrize(
    ("global_decl", "section"),
    [("static uint64_t counter = 5;", ".data"), ("static uint64_t counter;", ".bss")],
)
def test_mutable_globals_are_refused(tmp_path: Path, global_decl: str, section: str) -> None:
    src = write(tmp_path, "g.c", program(global_decl, "counter += input[0]; return counter;"))
    with pytest.raises(WritableSectionError) as info:
        link_sources(src)
    assert info.value.section.startswith(section)
    assert info.value.size == 8


def test_duplicate_definitions(tmp_path: Path) -> None:
    a = write(tmp_path, "a.c", "#include <stdint.h>\nuint64_t twice(void) { return 1; }\n")
    b = write(tmp_path, "b.c", program("uint64_t twice(void);", "(void)input; return twice();"))
    c = write(tmp_path, "c.c", "#include <stdint.h>\nuint64_t twice(void) { return 3; }\n")
    link_sources([a, b])  # one definition is fine
    with pytest.raises(DuplicateSymbolError) as info:
        link_sources([a, b, c])
    assert info.value.name == "twice"


def test_missing_entrypoint(tmp_path: Path) -> None:
    src = write(tmp_path, "m.c", "#include <stdint.h>\nuint64_t main_(void) { return 0; }\n")
    with pytest.raises(MissingEntrypointError):
        link_sources(src)


def _set_relocation_type(obj: bytes, section_name: str, new_type: int) -> bytes:
    elf = ELFFile(io.BytesIO(obj))
    section = elf.get_section_by_name(section_name)
    assert isinstance(section, RelocationSection) and section.num_relocations() > 0
    patched = bytearray(obj)
    patched[section["sh_offset"] + 8] = new_type  # r_info's low 32 bits hold the type
    return bytes(patched)


def test_unknown_relocation_type_is_refused(tmp_path: Path) -> None:
    obj = compile_text(tmp_path, "r.c", ENTRY.replace("#include <heliostat.h>\n", "")
                       .replace("uint64_t entry", "#include <stdint.h>\nstatic const char *const "
                                "NAMES[] = {\"a\", \"b\"};\nuint64_t entry")
                       + "  return (uint64_t)NAMES[input[0] & 1][0];\n}\n")  # fmt: skip
    link([("r.o", obj)])  # links as compiled (R_BPF_64_ABS64 in .rodata)
    with pytest.raises(UnknownRelocationError) as info:
        link([("r.o", _set_relocation_type(obj, ".rel.rodata", 3))])  # R_BPF_64_ABS32
    assert info.value.reloc_type == 3
    assert info.value.section == ".rodata"


def test_objects_for_later_ebpf_are_refused(tmp_path: Path) -> None:
    body = "uint32_t a = input[0] * 3u, b = input[1] + 7u; return a < b ? 1 : 2;"
    src = write(tmp_path, "j.c", program("", body))
    out = tmp_path / "j.o"
    cmd = [arg.replace("-mcpu=v1", "-mcpu=v3") for arg in compile_command(src, out, [SDK_DIR])]
    subprocess.run(cmd, check=True, capture_output=True)
    with pytest.raises(InvalidInstructionError, match="JMP32"):
        link([("j.o", out.read_bytes())])
    link([("j.o", compile_c(src, [SDK_DIR]).data)])  # the same source at -mcpu=v1 links


def test_not_an_object(tmp_path: Path) -> None:
    with pytest.raises(ObjectFormatError):
        link([("junk.o", b"\x7fELF" + bytes(100))])
    shared = build_program(write(tmp_path, "n.c", ENTRY + "  (void)input;\n  return 0;\n}\n"))
    with pytest.raises(ObjectFormatError) as info:
        link([("n.so", shared.read_bytes())])  # a linked ELF is not a relocatable object
    assert info.value.field == "e_type"


def test_link_errors_share_a_base(tmp_path: Path) -> None:
    with pytest.raises(LinkError):
        link([])


SELF_CALL = """\
\t.text
\t.globl entrypoint
\t.type entrypoint,@function
entrypoint:
\tcall {target}
\tr0 = 0
\texit
\t.globl spin
\t.type spin,@function
spin:
\tcall spin
\texit
\t.type local_spin,@function
local_spin:
\tcall local_spin
\texit
"""


@pytest.mark.parametrize("target", ["spin", "local_spin"])
def test_a_call_to_its_own_slot_survives_the_loader(tmp_path: Path, target: str) -> None:
    # A function whose first instruction calls itself has the relative immediate -1, which
    # the loader reads as "syscall relocated here": the linker must route it via .dynsym.
    # With the global `spin` LLVM emits a relocation; with `local_spin` it resolves the call
    # itself. Either way the program must recurse until the call depth limit.
    src = write(tmp_path, "spin.s", SELF_CALL.format(target=target))
    linked = link_sources(src, sdk=False)
    assert any(name.startswith("function_") for name in _dynsym_names(linked.elf))
    out = run_on_litesvm(linked.elf)
    assert out.error == "ProgramFailedToComplete"
    assert "exceeded max BPF to BPF call depth" in out.logs[-1]


def _dynsym_names(elf: bytes) -> list[str]:
    dynsym = ELFFile(io.BytesIO(elf)).get_section_by_name(".dynsym")
    return [sym.name for sym in dynsym.iter_symbols()]


FUNCTION_POINTERS = """
static __attribute__((noinline)) uint64_t triple(uint64_t x) { return 3 * x; }
static __attribute__((noinline)) uint64_t square(uint64_t x) { return x * x; }
"""


def test_function_address_loaded_with_lddw(tmp_path: Path) -> None:
    # Choosing a function at run time makes the compiler load its address with lddw
    # (R_BPF_64_64 into .text) and call it with callx; the result travels as Custom(n).
    body = """
      uint64_t (*volatile fn)(uint64_t) = input[8] == 0 ? triple : square;
      return SOL_CUSTOM_ERROR(fn(7));"""
    elf = build_program(write(tmp_path, "fp.c", program(FUNCTION_POINTERS, body)))
    assert run_on_litesvm(elf.read_bytes()).error == "Custom(21)"  # no accounts: input[8] = 0
    linked = link_sources(tmp_path / "fp.c")
    text = linked.elf[linked.text_offset : linked.text_offset + linked.text_size]
    slots = [text[i : i + 8] for i in range(0, len(text), 8)]
    assert any(s[0] == 0x18 for s in slots)  # the lddw of a function address
    callx = [s for s in slots if s[0] == 0x8D]
    assert callx and all(s[1] == 0 and s[4] < 10 for s in callx)  # register in the immediate


HEAP = """
static uint64_t addr(const void *p) { return (uint64_t)(uintptr_t)p; }
"""


def test_heap_allocator(tmp_path: Path) -> None:
    body = """
      (void)input;
      uint8_t *a = sol_heap_alloc(3, 1);
      uint64_t *b = sol_heap_alloc(16, 8);
      void *too_big = sol_heap_alloc(SOL_HEAP_LENGTH, 1);
      a[0] = 1; b[1] = 2;
      sol_log_64(addr(a), addr(b), addr(too_big), b[1], 0);
      return SUCCESS;"""
    elf = build_program(write(tmp_path, "heap.c", program(HEAP, body)))
    out = run_on_litesvm(elf.read_bytes())
    assert out.error is None
    assert out.logs[1] == "Program log: 0x300000008, 0x300000010, 0x0, 0x2, 0x0"


SECTIONED = """
static __attribute__((noinline)) uint64_t s1(uint64_t x) { return x * x + 7; }
static __attribute__((noinline)) uint64_t s2(uint64_t x) { return s1(x) ^ s1(x + 1); }
uint64_t __attribute__((noinline)) g1(uint64_t x) { return s2(x) + 1; }
"""


def test_calls_across_text_sections(tmp_path: Path) -> None:
    # -ffunction-sections puts each function in its own .text.<name>; calls to static ones
    # are then relocations against section symbols, which the linker must place and resolve.
    src = write(
        tmp_path, "fs.c", program(SECTIONED, "return SOL_CUSTOM_ERROR(g1(input[0] + 3) + s1(2));")
    )
    out = tmp_path / "fs.o"
    cmd = compile_command(src, out, [SDK_DIR])
    cmd.insert(cmd.index("-c"), "-ffunction-sections")
    subprocess.run(cmd, check=True, capture_output=True)
    sections = [s.name for s in ELFFile(io.BytesIO(out.read_bytes())).iter_sections()]
    assert ".text.s1" in sections and ".text.entrypoint" in sections
    elf = link([("fs.o", out.read_bytes())]).elf

    def s1(x: int) -> int:
        return x * x + 7

    # no accounts: input[0] is the low byte of the account count, 0
    assert run_on_litesvm(elf).error == f"Custom({(s1(3) ^ s1(4)) + 1 + s1(2)})"
