"""Hypothesis fuzzes the RPC surface: every answer is well-formed JSON-RPC, never an internal
error, and the node stays up."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from node_harness import NodeProcess
from solders.keypair import Keypair
from solders.pubkey import Pubkey

METHODS = [
    "getVersion",
    "getHealth",
    "getGenesisHash",
    "getSlot",
    "getBlockHeight",
    "getEpochInfo",
    "getLatestBlockhash",
    "isBlockhashValid",
    "getFeeForMessage",
    "getMinimumBalanceForRentExemption",
    "getBalance",
    "getAccountInfo",
    "getMultipleAccounts",
    "getProgramAccounts",
    "getTokenAccountBalance",
    "getTokenAccountsByOwner",
    "getTokenSupply",
    "sendTransaction",
    "simulateTransaction",
    "getSignatureStatuses",
    "getTransaction",
    "getSignaturesForAddress",
    "getBlock",
    "getBlocks",
    "requestAirdrop",
    "heliostat_getReceipt",
    "heliostat_getBatchStatus",
    "heliostat_getBatchProof",
    "heliostat_getSequencerInfo",
]
KEYS = [str(Pubkey.new_unique()) for _ in range(3)] + [
    "11111111111111111111111111111111",
    "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
]
SIGNATURES = [str(Keypair().sign_message(b"x"))]
CONFIG_KEYS = [
    "commitment",
    "encoding",
    "dataSlice",
    "filters",
    "minContextSlot",
    "skipPreflight",
    "sigVerify",
    "replaceRecentBlockhash",
    "maxSupportedTransactionVersion",
    "limit",
    "before",
    "until",
    "transactionDetails",
    "rewards",
    "withContext",
    "accounts",
    "mint",
    "programId",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(
        KEYS
        + SIGNATURES
        + [
            "processed",
            "confirmed",
            "finalized",
            "base64",
            "base58",
            "jsonParsed",
            "base64+zstd",
            "AAAA",
        ]
    ),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(CONFIG_KEYS), st.text(max_size=8)), inner, max_size=4
        ),
    ),
    max_leaves=10,
)
requests = st.fixed_dictionaries(
    {
        "jsonrpc": st.sampled_from(["2.0", "2.0", "2.0", "1.0"]),
        "id": st.one_of(st.integers(0, 2**31), st.text(max_size=5), st.none()),
        "method": st.one_of(st.sampled_from(METHODS), st.text(max_size=12)),
    },
    optional={"params": st.one_of(st.lists(json_values, max_size=4), json_values)},
)


def _check_answer(answer: Any) -> None:
    assert isinstance(answer, dict) and answer.get("jsonrpc") == "2.0", answer
    assert ("result" in answer) != ("error" in answer), answer
    if "error" in answer:
        error = answer["error"]
        assert isinstance(error["code"], int) and isinstance(error["message"], str)
        assert error["code"] != -32603, answer  # no internal error on any input


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(request=requests)
def test_fuzz_single_requests(node: NodeProcess, request: dict[str, Any]) -> None:
    status, answer = node.post(json.dumps(request))
    assert status in (200, 204), (status, answer)
    if status == 200:
        _check_answer(answer)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(batch=st.lists(requests, min_size=1, max_size=5))
def test_fuzz_batches(node: NodeProcess, batch: list[dict[str, Any]]) -> None:
    status, answer = node.post(json.dumps(batch))
    assert status in (200, 204)
    if status == 200:
        assert isinstance(answer, list)
        for item in answer:
            _check_answer(item)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(body=st.binary(max_size=300))
def test_fuzz_raw_bodies(node: NodeProcess, body: bytes) -> None:
    status, answer = node.post(body)
    assert status in (200, 204)
    if isinstance(answer, list):
        for item in answer:
            _check_answer(item)
    elif answer is not None:
        _check_answer(answer)


def test_node_survives_the_fuzzing(node: NodeProcess) -> None:
    assert node.result("getHealth") == "ok"
    assert node.process is not None and node.process.poll() is None
