"""The runtime image: built from c/runtime with the project's toolchain, loaded for the VM.

The same ELF runs natively and in proving mode; natively, calls to the functions listed in
`heliostat.svm.kernel_jets.JETS` (ed25519 verification) are bound to their jets.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from heliostat.svm.elf import load_elf
from heliostat.svm.executable import Executable
from heliostat.svm.kernel import KERNEL_SYSCALLS, kernel_registry
from heliostat.svm.kernel_jets import with_jets
from heliostat.svm.syscalls import poseidon2
from heliostat.toolchain import link_sources
from heliostat.toolchain.build import C_DIR

RUNTIME_DIR = C_DIR / "runtime"
ED25519_DIR = C_DIR / "lib" / "ed25519"
STATE_TREE_DIR = C_DIR / "lib" / "state_tree"
ED25519_SOURCES = (
    "ed25519.c",
    "fe25519.c",
    "fe25519_asm.c",
    "ge25519.c",
    "lattice.c",
    "sc25519.c",
    "sha512.c",
    "sha512_asm.c",
)


@dataclass(frozen=True)
class KernelImage:
    """The runtime ELF and its two loaded forms."""

    elf: bytes
    functions: dict[str, int]
    executable: Executable  # proving mode: the real code
    native: Executable  # native mode: jets bound

    def for_mode(self, *, jets: bool) -> Executable:
        """Return the executable to run: with jets (native) or without (proving)."""
        return self.native if jets else self.executable


def kernel_sources() -> list[str]:
    """Every C file of the runtime image."""
    runtime = sorted(str(p) for p in RUNTIME_DIR.glob("*.c"))
    state_tree = [str(STATE_TREE_DIR / name) for name in ("state_tree.c", "st_hash.c")]
    return runtime + [str(ED25519_DIR / name) for name in ED25519_SOURCES] + state_tree


@functools.cache
def kernel_image() -> KernelImage:
    """Build (objects cached under build/obj) and load the runtime image, once per process."""
    linked = link_sources(
        kernel_sources(),
        include_dirs=[RUNTIME_DIR, C_DIR / "lib"],
        extra_syscalls=sorted([*KERNEL_SYSCALLS, poseidon2.NAME]),
    )
    executable = load_elf(linked.elf, kernel_registry())
    return KernelImage(
        linked.elf, dict(linked.functions), executable, with_jets(executable, linked.functions)
    )
