"""The log lines of a transaction, from the kernel's structured log events.

The kernel reports what happened (`heliostat_log(kind, data, a, b)`, c/runtime/rt.h RT_LOG_*);
the texts are agave's (stable_log.rs, the System Program's and CPI's `ic_msg!` lines, the
syscall errors' Display). Logs are receipts only: they never reach state or the proof.
"""

from __future__ import annotations

import base64
import struct

from solders.pubkey import Pubkey

from heliostat.runtime.errors import KernelOutputError
from heliostat.svm import log_collector as stable_log
from heliostat.svm.errors import SyscallFault, VmFault
from heliostat.svm.instruction_error import InstructionError, InstructionErrorKind
from heliostat.svm.log_collector import LogCollector

LOG_INVOKE, LOG_SUCCESS, LOG_FAILED, LOG_CONSUMED, LOG_RETURN, LOG_MESSAGE = 1, 2, 3, 4, 5, 6
LOG_BATCH = 7
_RECORD = struct.Struct("<QQQQ")

FAIL_LAST_FAULT = 200
FAIL_LAST_VIOLATION = 201
_FAILURE_TEXTS = {
    202: "Unaligned pointer",
    203: "Return data too large ({n} > 1024)",
    204: "Too many signers",
    205: "Could not create program address with signer seeds: "
    "Length of the seed is too long for address generation",
    206: "Could not create program address with signer seeds: "
    "Provided seeds do not result in a valid address",
    207: "Invoked an instruction with too many accounts ({n} > 255)",
    208: "Invoked an instruction with data that is too large ({n} > 10240)",
    209: "Invoked an instruction with too many account info's ({n} > 255)",
    210: "Program {key} not supported by inner instructions",
    211: "InvalidLength",
    212: "Overlapping copy",
}
# Message templates: text, then the argument kinds ("k" a key, "a" an Address, "n" a u64).
_MESSAGES: dict[int, tuple[str, str]] = {
    1: ("Transfer: `from` must not carry data", ""),
    2: ("Transfer: insufficient lamports {0}, need {1}", "nn"),
    3: ("Transfer: `from` account {0} must sign", "k"),
    4: ("Allocate: 'to' account {0} must sign", "a"),
    5: ("Allocate: account {0} already in use", "a"),
    6: ("Allocate: requested {0}, max allowed {1}", "nn"),
    7: ("Assign: account {0} must sign", "a"),
    8: ("Create Account: account {0} already in use", "a"),
    9: ("Create: address {0} does not match derived address {1}", "kk"),
    10: ("Transfer: 'from' account {0} must sign", "k"),
    11: ("Transfer: 'from' address {0} does not match derived address {1}", "kk"),
    12: ("Instruction references an unknown account {0}", "k"),
    13: ("{0}'s writable privilege escalated", "k"),
    14: ("{0}'s signer privilege escalated", "k"),
    15: ("Unknown program {0}", "k"),
    16: ("Account data size realloc limited to {0} in inner instructions", "n"),
}
_KINDS = tuple(InstructionErrorKind)


def _key(data: bytes, at: int = 0) -> str:
    if len(data) < at + 32:
        raise KernelOutputError("log event too short for a key", expected=at + 32, got=len(data))
    return str(Pubkey(data[at : at + 32]))


def _message(template: int, data: bytes) -> str:
    if template not in _MESSAGES:
        raise KernelOutputError(f"unknown log message template {template}")
    text, kinds = _MESSAGES[template]
    args: list[str] = []
    at = 0
    for kind in kinds:
        if kind == "n":
            args.append(str(struct.unpack_from("<Q", data, at)[0]))
            at += 8
        elif kind == "k":
            args.append(_key(data, at))
            at += 32
        else:  # the System Program's Address { address, base } in Debug form
            base = f"Some({_key(data, 32)})" if len(data) >= 64 else "None"
            args.append(f"Address {{ address: {_key(data)}, base: {base} }}")
            at = len(data)
    return text.format(*args)


def failure_text(code: int, number: int, data: bytes, fault: object, violation: object) -> str:
    """Return what follows "Program <id> failed: " for a kernel failure code."""
    if code < len(_KINDS):
        kind = _KINDS[code]
        if kind is InstructionErrorKind.CUSTOM:
            return InstructionError.custom(number).message
        return InstructionError(kind).message
    if code == FAIL_LAST_FAULT:
        if isinstance(fault, SyscallFault):
            return str(fault.cause)
        return str(fault)
    if code == FAIL_LAST_VIOLATION:
        return str(violation)
    if code in _FAILURE_TEXTS:
        key = _key(data, 32) if code == 210 else ""
        return _FAILURE_TEXTS[code].format(n=number, key=key)
    raise KernelOutputError(f"unknown failure code {code}")


def write_event(
    logs: LogCollector,
    kind: int,
    data: bytes,
    a: int,
    b: int,
    *,
    fault: VmFault | None,
    violation: object,
) -> None:
    """Append the line(s) for one kernel log event (or a batch of them)."""
    if kind == LOG_BATCH:
        at = 0
        while at < len(data):
            if at + 32 > len(data):
                raise KernelOutputError("log batch truncated", expected=at + 32, got=len(data))
            inner, x, y, length = _RECORD.unpack_from(data, at)
            payload = data[at + 32 : at + 32 + length]
            write_event(logs, inner, payload, x, y, fault=fault, violation=violation)
            at += 32 + length + (-length % 8)
    elif kind == LOG_INVOKE:
        stable_log.program_invoke(logs, _key(data), a)
    elif kind == LOG_SUCCESS:
        stable_log.program_success(logs, _key(data))
    elif kind == LOG_FAILED:
        stable_log.program_failure(logs, _key(data), failure_text(a, b, data, fault, violation))
    elif kind == LOG_CONSUMED:
        stable_log.program_consumed(logs, _key(data), a, b)
    elif kind == LOG_RETURN:
        logs.log(f"Program return: {_key(data)} {base64.b64encode(data[32:]).decode()}")
    elif kind == LOG_MESSAGE:
        logs.log(_message(a, data))
    else:
        raise KernelOutputError(f"unknown log event kind {kind}")
