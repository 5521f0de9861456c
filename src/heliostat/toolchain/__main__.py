"""Command line: `python -m heliostat.toolchain build <src.c...> -o <out.so>` and friends."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from heliostat.toolchain.build import SOURCE_SUFFIXES, build_program, list_programs
from heliostat.toolchain.errors import ToolchainError
from heliostat.toolchain.linker import link


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m heliostat.toolchain", description="Build C programs into sBPF v0 ELFs."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="compile and link C sources (or a program by name)")
    build.add_argument("inputs", nargs="+", help="C sources, or one program name (see `list`)")
    build.add_argument("-o", "--output", help="output ELF (default build/<name>.so)")
    build.add_argument("-I", dest="include_dirs", action="append", default=[], help="include dir")
    build.add_argument("-D", dest="defines", action="append", default=[], help="macro definition")
    build.add_argument("--no-sdk", action="store_true", help="do not link heliostat_sdk.c")
    build.add_argument(
        "--syscall", dest="syscalls", action="append", default=[], help="extra syscall name"
    )
    sub.add_parser("list", help="list the programs under c/programs")
    build_all = sub.add_parser("build-all", help="build every program under c/programs")
    build_all.add_argument("-q", "--quiet", action="store_true")
    link_cmd = sub.add_parser("link", help="link BPF object files (no SDK, no cache)")
    link_cmd.add_argument("objects", nargs="+")
    link_cmd.add_argument("-o", "--output", required=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            print("\n".join(list_programs()))
        elif args.command == "build-all":
            for name in list_programs():
                path = build_program(name)
                if not args.quiet:
                    print(path)
        elif args.command == "link":
            objects = []
            for path in args.objects:
                with open(path, "rb") as f:
                    objects.append((path, f.read()))
            with open(args.output, "wb") as out:
                out.write(link(objects).elf)
        else:
            single = len(args.inputs) == 1 and not args.inputs[0].endswith(SOURCE_SUFFIXES)
            path = build_program(
                args.inputs[0] if single else args.inputs,
                output=args.output,
                include_dirs=args.include_dirs,
                defines=args.defines,
                extra_syscalls=args.syscalls,
                sdk=not args.no_sdk,
            )
            print(path)
    except ToolchainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
