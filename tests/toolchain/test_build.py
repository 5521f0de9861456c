"""build_program: outputs, the content-hash cache, program discovery and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from heliostat.toolchain import __main__ as cli
from heliostat.toolchain import build, compiler
from heliostat.toolchain.errors import CompileError, ProgramNotFoundError

SOURCE = """\
#include <heliostat.h>
#include "answer.h"
uint64_t entrypoint(const uint8_t *input) {
  (void)input;
  sol_log_64(ANSWER, 0, 0, 0, 0);
  return SUCCESS;
}
"""


@pytest.fixture
def build_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    out = tmp_path / "build"
    monkeypatch.setenv("HELIOSTAT_BUILD_DIR", str(out))
    return out


@pytest.fixture
def source(tmp_path: Path) -> Path:
    (tmp_path / "answer.h").write_text("#define ANSWER 42\n")
    path = tmp_path / "answer.c"
    path.write_text(SOURCE)
    return path


def _refuse_to_compile(*args: object, **kwargs: object) -> bytes:
    raise AssertionError("the cache should have answered")


def test_outputs_land_in_the_build_dir(build_dir: Path, source: Path) -> None:
    path = build.build_program(source)
    assert path == build_dir / "answer.so"
    assert path.read_bytes()[:4] == b"\x7fELF"
    assert build.build_program("noop") == build_dir / "noop.so"


def test_a_repeated_build_is_free(
    build_dir: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = build.build_program(source)
    stamp = first.stat().st_mtime_ns
    monkeypatch.setattr(compiler, "compile_c", _refuse_to_compile)
    assert build.build_program(source) == first
    assert first.stat().st_mtime_ns == stamp


def test_changing_a_header_rebuilds(build_dir: Path, source: Path) -> None:
    before = build.build_program(source).read_bytes()
    (source.parent / "answer.h").write_text("#define ANSWER 43\n")
    after = build.build_program(source).read_bytes()
    assert before != after


def test_objects_are_reused_when_only_the_link_changes(
    build_dir: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build.build_program(source)
    monkeypatch.setattr(compiler, "compile_c", _refuse_to_compile)
    # A different output name is a different link, but every object is already cached.
    other = build.build_program(source, name="answer_again")
    assert other == build_dir / "answer_again.so"


def test_compile_errors_carry_the_diagnostics(build_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.c"
    bad.write_text("#include <heliostat.h>\nuint64_t entrypoint(void) { return undeclared(); }\n")
    with pytest.raises(CompileError) as info:
        build.build_program(bad)
    assert "undeclared" in info.value.stderr
    assert info.value.reason == "compile_failed"


def test_unknown_program_name(build_dir: Path) -> None:
    with pytest.raises(ProgramNotFoundError) as info:
        build.build_program("no_such_program")
    assert "hello" in info.value.known


def test_programs_are_discovered() -> None:
    names = build.list_programs()
    assert {"hello", "dispatch", "compute_heavy"} <= set(names)
    assert len(build.program_sources("dispatch")) == 4


def test_cli_build_list_and_errors(
    build_dir: Path, source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli.so"
    assert cli.main(["build", str(source), "-o", str(out)]) == 0
    assert out.read_bytes() == build.build_program(source).read_bytes()
    assert cli.main(["list"]) == 0
    assert "fault_call_depth" in capsys.readouterr().out.split()
    assert cli.main(["build", "no_such_program"]) == 1
    assert "no C program named" in capsys.readouterr().err


def test_changing_an_included_c_file_rebuilds(build_dir: Path, tmp_path: Path) -> None:
    # A unity build (a .c file that #includes another .c) must see edits to the included file.
    (tmp_path / "impl.c").write_text("static uint64_t value(void) { return 1; }\n")
    main = tmp_path / "unity.c"
    main.write_text(
        '#include <heliostat.h>\n#include "impl.c"\n'
        "uint64_t entrypoint(const uint8_t *input) { (void)input; return value(); }\n"
    )
    before = build.build_program(main).read_bytes()
    (tmp_path / "impl.c").write_text("static uint64_t value(void) { return 2; }\n")
    after = build.build_program(main).read_bytes()
    assert before != after
