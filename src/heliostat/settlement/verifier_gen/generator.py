"""Generate the Solidity verifier of one compiled machine under one parameter set.

Output: a verifier contract (the machine's verifying key as code, inheriting the protocol in
contracts/src/stark/) and evaluator contracts holding the constraint programs as straight-line
Yul (``constraints``). Everything comes from the ``VerifyingKey`` the Python verifier uses:
the tables' widths and degrees, the LogUp layout, the constraint programs, the public
interactions, the machine digest, the parameter set and the fixed-column root.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from heliostat.settlement.errors import GeneratorError
from heliostat.settlement.verifier_gen.clear_rows import compile_clear_table, row_image
from heliostat.settlement.verifier_gen.constraints import (
    DEFAULT_SEGMENT_BYTES,
    CompiledProgram,
    Segment,
    compile_public_interactions,
    compile_table,
)
from heliostat.settlement.verifier_gen.layout import public_image, table_image
from heliostat.settlement.verifier_gen.yul_field import helpers_for
from heliostat.stark.keys import VerifyingKey
from heliostat.stark.pcs import Round, next_columns

# Ethereum's contract code limit is 24 576 bytes (EIP-170); keep a margin for the estimate.
CONTRACT_BUDGET = 21_000
SOURCE_PREFIX = "generated"


@dataclass(frozen=True)
class GeneratedVerifier:
    """Solidity sources (source unit name → text) and how to deploy them.

    Deploy ``evaluators`` in order and the shared ``StarkQueryPhase`` and
    ``StarkStatementPhase`` (once per chain), then ``verifier`` with the two phase addresses and
    the evaluator addresses (``address[]``).
    """

    name: str
    sources: dict[str, str]
    verifier: str  # contract name
    evaluators: tuple[str, ...]  # contract names, in constructor order
    source_of: dict[str, str]  # contract name → source unit name


@dataclass
class _Placement:
    """Segments packed into evaluator contracts: contract index and segment id per segment."""

    contracts: list[list[Segment]]

    def place(self, segment: Segment) -> int:
        """Add a segment; return its word (contract << 128 | id) for the verifying key."""
        if (
            not self.contracts
            or sum(s.size for s in self.contracts[-1]) + segment.size > CONTRACT_BUDGET
        ):
            self.contracts.append([])
        self.contracts[-1].append(segment)
        return ((len(self.contracts) - 1) << 128) | (len(self.contracts[-1]) - 1)


def generate_verifier(
    vk: VerifyingKey, name: str, *, segment_bytes: int = DEFAULT_SEGMENT_BYTES
) -> GeneratedVerifier:
    """Generate the verifier of ``vk`` (machine and parameter set); ``name`` prefixes contracts."""
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name):
        raise GeneratorError(f"contract prefix {name!r} must be a CamelCase identifier")
    machine = vk.machine
    placement = _Placement([])
    table_segments: list[list[int]] = []
    table_scratch: list[int] = []
    clear_segments: list[list[int]] = []
    clear_scratch: list[int] = []
    for table in machine.tables:
        compiled = compile_table(
            table, table_image(table, machine.num_public_values), segment_bytes
        )
        table_segments.append([placement.place(s) for s in compiled.segments])
        table_scratch.append(compiled.scratch_words)
        rows, words = [], 0
        small = (table.fixed_log_height or 0) <= vk.config.max_clear_log_height
        if vk.config.max_clear_log_height and small:  # may go in the clear
            image = row_image(table, machine.num_public_values)
            checked = compile_clear_table(table, image, segment_bytes)
            rows, words = [placement.place(s) for s in checked.segments], checked.scratch_words
        clear_segments.append(rows)
        clear_scratch.append(words)
    public: CompiledProgram | None = None
    public_segments: list[int] = []
    if machine.public_interactions:
        public = compile_public_interactions(machine, public_image(machine.num_public_values))
        public_segments = [placement.place(s) for s in public.segments]

    sources: dict[str, str] = {}
    source_of: dict[str, str] = {}
    evaluators = []
    for i, segments in enumerate(placement.contracts):
        contract = f"{name}Evaluator{i}"
        unit = f"{SOURCE_PREFIX}/{contract}.sol"
        sources[unit] = _evaluator_source(contract, segments, vk)
        source_of[contract] = unit
        evaluators.append(contract)
    verifier = f"{name}Verifier"
    unit = f"{SOURCE_PREFIX}/{verifier}.sol"
    sources[unit] = _verifier_source(
        verifier,
        vk,
        table_segments,
        table_scratch,
        public_segments,
        0 if public is None else public.scratch_words,
        len(evaluators),
        clear_segments,
        clear_scratch,
    )
    source_of[verifier] = unit
    return GeneratedVerifier(name, sources, verifier, tuple(evaluators), source_of)


def _header(vk: VerifyingKey) -> str:
    return (
        "// SPDX-License-Identifier: MIT\n"
        "// Generated by heliostat.settlement.verifier_gen; do not edit.\n"
        f"// machine digest 0x{vk.machine.digest.hex()}, parameter set {vk.config.name!r}\n"
        "pragma solidity ^0.8.24;\n"
    )


def _evaluator_source(contract: str, segments: list[Segment], vk: VerifyingKey) -> str:
    used: set[str] = set()
    cases = []
    for i, segment in enumerate(segments):
        used |= segment.helpers
        body = "\n".join("                " + line for line in segment.code.splitlines())
        cases.append(f"            case {i} {{\n{body}\n            }}")
    helpers = "\n".join("            " + line for line in helpers_for(used).splitlines())
    return (
        _header(vk)
        + "\n"
        + "/// @notice Constraint segments of the machine's tables at the out-of-domain point.\n"
        "/// Called by the generated verifier with (segment id, memory image); returns the\n"
        "/// image.\n"
        f"contract {contract} {{\n"
        "    fallback() external {\n"
        "        assembly {\n"
        f"{helpers}\n"
        "            let size := sub(calldatasize(), 32)\n"
        "            calldatacopy(0, 32, size)\n"
        "            switch calldataload(0)\n"
        + "\n".join(cases)
        + "\n            default { revert(0, 0) }\n"
        "            return(0, size)\n"
        "        }\n"
        "    }\n"
        "}\n"
    )


def _packed(values: list[int], size: int) -> str:
    """Return the values as hex, ``size`` bytes each, big-endian (StarkVerifier._unpack)."""
    if any(not 0 <= v < 1 << (8 * size) for v in values):
        raise GeneratorError(f"a verifying-key value does not fit {size} bytes")
    return b"".join(v.to_bytes(size, "big") for v in values).hex()


def _segments_packed(words: list[int]) -> str:
    """Return segment words (evaluator << 128 | id) as 2-byte pairs in hex."""
    pairs = [(w >> 128, w & ((1 << 128) - 1)) for w in words]
    if any(c >= 1 << 16 or i >= 1 << 16 for c, i in pairs):
        raise GeneratorError("more than 2^16 evaluators or segments")
    return b"".join(c.to_bytes(2, "big") + i.to_bytes(2, "big") for c, i in pairs).hex()


def _verifier_source(
    contract: str,
    vk: VerifyingKey,
    table_segments: list[list[int]],
    table_scratch: list[int],
    public_segments: list[int],
    public_scratch: int,
    n_evaluators: int,
    clear_segments: list[list[int]],
    clear_scratch: list[int],
) -> str:
    machine, config = vk.machine, vk.config
    key = [
        f"vk.machineDigest = 0x{machine.digest.hex()};",
        f'vk.configBytes = hex"{config.to_bytes().hex()}";',
        f"vk.logBlowup = {config.log_blowup};",
        f"vk.powBits = {config.pow_bits};",
        f"vk.maxLogArity = {config.max_log_arity};",
        f"vk.logFinalPolyLen = {config.log_final_poly_len};",
        f"vk.numQueries = {config.num_queries};",
        f"vk.maxClearLogHeight = {config.max_clear_log_height};",
        f"vk.maxLogHeight = {config.max_log_height};",
        f"vk.numPublics = {machine.num_public_values};",
        f"vk.usesLogup = {'true' if machine.uses_logup else 'false'};",
        f"vk.hasFixed = {'true' if vk.preprocessed_root is not None else 'false'};",
    ]
    if vk.preprocessed_root is not None:
        key.append(f"vk.fixedRoot = 0x{vk.preprocessed_root.hex()};")
    key.append(f"vk.tables = new TableShape[]({len(machine.tables)});")
    for t, table in enumerate(machine.tables):
        fixed: list[int] = []
        if clear_segments[t] and table.preprocessed is not None:  # the row check reads them
            fixed = [int(v) for v in table.preprocessed.reshape(-1)]
        scalars = [
            table.width,
            table.preprocessed_width,
            table.fixed_log_height or 0,
            table.permutation_width,
            table.num_quotient_chunks,
            len(table.program.outputs),
            table_scratch[t],
            int(table.may_be_absent),
            clear_scratch[t],
        ]
        parts = [
            _packed(scalars, 4),
            _segments_packed(table_segments[t]),
            _packed(list(next_columns(table, Round.MAIN)), 2),
            _packed(list(next_columns(table, Round.PREPROCESSED)), 2),
            _packed(list(next_columns(table, Round.PERMUTATION)), 2),
            _segments_packed(clear_segments[t]),
            _packed(fixed, 4),
        ]
        key.append(f"// table {t}: {table.name}")
        key.append(f"vk.tables[{t}] = _shape(" + ", ".join(f'hex"{p}"' for p in parts) + ");")
    key.append(f"vk.publicSlotWords = {public_scratch};")
    key.append(f'vk.publicSegments = _segmentWords(hex"{_segments_packed(public_segments)}");')
    key_body = "\n".join("        " + line for line in key)
    # evaluator addresses in storage, not immutables: code per immutable grows with their
    # number (the zkVM has ~200 evaluators since the Keccak-f table) past EIP-170's limit;
    # reading them back costs a cold SLOAD each
    immutables = "    address[] private evaluatorList;"
    assigns = "        evaluatorList = evaluators;"
    listing = "        list = evaluatorList;"
    names = ", ".join(t.name for t in machine.tables)
    return (
        _header(vk)
        + "\n"
        + 'import {IStarkQueryPhase, IStarkStatementPhase} from "stark/StarkPhases.sol";\n'
        + 'import {StarkVerifier} from "stark/StarkVerifier.sol";\n'
        + 'import {TableShape, VerifyingKey} from "stark/StarkTypes.sol";\n\n'
        + f"/// @notice STARK verifier of the machine ({names}) under parameter set "
        f"{config.name!r}.\n"
        f"contract {contract} is StarkVerifier {{\n"
        f"{immutables}\n\n"
        "    constructor(\n"
        "        IStarkQueryPhase queryPhase,\n"
        "        IStarkStatementPhase statementPhase,\n"
        "        address[] memory evaluators\n"
        "    ) StarkVerifier(queryPhase, statementPhase) {\n"
        f'        require(evaluators.length == {n_evaluators}, "evaluator count");\n'
        f"{assigns}\n"
        "    }\n\n"
        "    function _evaluators() internal view override returns (address[] memory list) {\n"
        f"{listing}\n"
        "    }\n\n"
        "    function _verifyingKey() internal pure override returns (VerifyingKey memory vk) {\n"
        f"{key_body}\n"
        "    }\n"
        "}\n"
    )
