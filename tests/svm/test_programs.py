import pytest

from heliostat.svm import programs


@pytest.mark.parametrize(
    "binary",
    [programs.spl_token, programs.token_2022, programs.associated_token, programs.memo],
)
def test_real_program_binaries_are_sbpf_v0_elfs(binary) -> None:  # type: ignore[no-untyped-def]
    elf = binary().elf
    assert elf[:4] == b"\x7fELF"
    assert elf[4] == 2  # ELFCLASS64
    assert int.from_bytes(elf[18:20], "little") in (247, 263)  # EM_BPF or EM_SBPF
    assert int.from_bytes(elf[48:52], "little") == 0  # e_flags: sBPF v0 (FACTS.md)
