"""sBPF: ELF loading, verification, interpreters and syscalls; emits execution events."""
