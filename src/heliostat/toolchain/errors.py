"""Errors of the C → sBPF toolchain: compiling, linking and building programs."""

from __future__ import annotations

from heliostat.primitives.errors import HeliostatError


class ToolchainError(HeliostatError):
    """Base of every error the toolchain raises."""

    reason = "toolchain_error"


class CompileError(ToolchainError):
    """The C compiler rejected a source file; ``stderr`` holds its diagnostics."""

    reason = "compile_failed"

    def __init__(self, source: str, returncode: int, stderr: str) -> None:
        super().__init__(f"compiling {source} failed (exit {returncode}):\n{stderr}")
        self.source = source
        self.returncode = returncode
        self.stderr = stderr


class LinkError(ToolchainError):
    """The linker cannot turn the objects into a loadable sBPF v0 ELF."""

    reason = "link_failed"


class ObjectFormatError(LinkError):
    """An input is not a 64-bit little-endian BPF relocatable object."""

    reason = "bad_object"

    def __init__(self, obj: str, field: str, expected: object, got: object) -> None:
        super().__init__(f"{obj}: {field} is {got!r}, expected {expected!r}")
        self.obj, self.field, self.expected, self.got = obj, field, expected, got


class UnknownRelocationError(LinkError):
    """A relocation type the sBPF v0 loader has no equivalent for."""

    reason = "unknown_relocation"

    def __init__(self, obj: str, section: str, offset: int, reloc_type: int) -> None:
        super().__init__(
            f"{obj}: relocation type {reloc_type} at {section}+{offset:#x} is not supported "
            "(handled: 1 R_BPF_64_64 in .text, 2 R_BPF_64_ABS64 in .rodata, 10 R_BPF_64_32 calls)"
        )
        self.obj, self.section, self.offset, self.reloc_type = obj, section, offset, reloc_type


class UndefinedSymbolError(LinkError):
    """A symbol no object defines and that is not a syscall."""

    reason = "undefined_symbol"

    def __init__(self, name: str, obj: str, detail: str) -> None:
        super().__init__(f"{obj}: undefined symbol {name!r} ({detail})")
        self.name, self.obj = name, obj


class DuplicateSymbolError(LinkError):
    """Two objects define the same global symbol."""

    reason = "duplicate_symbol"

    def __init__(self, name: str, first: str, second: str) -> None:
        super().__init__(f"symbol {name!r} is defined in both {first} and {second}")
        self.name, self.first, self.second = name, first, second


class WritableSectionError(LinkError):
    """Mutable globals: Solana's loader rejects writable .data/.bss sections."""

    reason = "writable_section"

    def __init__(self, obj: str, section: str, size: int) -> None:
        super().__init__(
            f"{obj}: section {section} ({size} bytes) is writable data; sBPF programs cannot "
            "have mutable globals (make it `static const`, or keep the state on the stack or "
            "in an account)"
        )
        self.obj, self.section, self.size = obj, section, size


class UnsupportedSectionError(LinkError):
    """An allocated section the linker does not know where to place."""

    reason = "unsupported_section"

    def __init__(self, obj: str, section: str) -> None:
        super().__init__(f"{obj}: don't know how to place allocated section {section}")
        self.obj, self.section = obj, section


class InvalidInstructionError(LinkError):
    """The text holds an instruction sBPF v0 does not have (e.g. JMP32 or atomics)."""

    reason = "invalid_instruction"

    def __init__(self, where: str, pc: int, opcode: int, why: str) -> None:
        super().__init__(f"{where}: instruction {pc} (opcode {opcode:#04x}) {why}")
        self.where, self.pc, self.opcode = where, pc, opcode


class MissingEntrypointError(LinkError):
    """No object defines the global function ``entrypoint``."""

    reason = "missing_entrypoint"

    def __init__(self, name: str) -> None:
        super().__init__(f"no object defines the entry function {name!r}")
        self.name = name


class ProgramNotFoundError(ToolchainError):
    """``build_program`` was given a name that is not a program under c/programs."""

    reason = "program_not_found"

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"no C program named {name!r}; known: {', '.join(known)}")
        self.name, self.known = name, known
