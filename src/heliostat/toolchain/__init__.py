"""C → sBPF v0 toolchain: `zig cc` for compiling, the project's own linker, a build cache.

`build_program(name_or_sources) -> Path` is the entry point; see docs/toolchain.md.
"""

from heliostat.toolchain.build import (
    build_all,
    build_program,
    link_sources,
    list_programs,
    program_elf,
)
from heliostat.toolchain.errors import (
    CompileError,
    LinkError,
    ToolchainError,
)
from heliostat.toolchain.linker import LinkedProgram, link

__all__ = [
    "CompileError",
    "LinkError",
    "LinkedProgram",
    "ToolchainError",
    "build_all",
    "build_program",
    "link",
    "link_sources",
    "list_programs",
    "program_elf",
]
