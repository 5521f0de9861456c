"""Names of the syscalls a linked program may call: exactly those Heliostat's VM registers.

Taking the set from the VM's default registry (mainnet's syscall set) means a program that
calls a syscall the loader would refuse — e.g. `sol_remaining_compute_units`, which mainnet
does not register — fails at link time, naming the call, rather than at load time.
"""

from __future__ import annotations

from heliostat.svm.syscalls.registry import default_registry

SOLANA_SYSCALLS: frozenset[str] = frozenset(bound.name for bound in default_registry())
