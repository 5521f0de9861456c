"""Solana syscalls with agave's semantics and compute costs, one module per family.

`registry.default_registry()` is the registry programs load against; `costs` is the CU table.
"""
