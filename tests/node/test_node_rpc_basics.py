"""The node answers the Solana methods clients call, with their shapes."""

from __future__ import annotations

import base64

from node_harness import NodeProcess
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from heliostat.node import base58


def _airdrop(node: NodeProcess, to: Pubkey, lamports: int) -> str:
    signature = node.result("requestAirdrop", str(to), lamports)
    assert isinstance(signature, str)
    return signature


def _blockhash(node: NodeProcess) -> Hash:
    return Hash.from_string(node.result("getLatestBlockhash")["value"]["blockhash"])


def _transfer(
    node: NodeProcess, payer: Keypair, to: Pubkey, lamports: int, v0: bool = False
) -> VersionedTransaction:
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=lamports))
    if v0:
        message: Message | MessageV0 = MessageV0.try_compile(
            payer.pubkey(), [ix], [], _blockhash(node)
        )
    else:
        message = Message.new_with_blockhash([ix], payer.pubkey(), _blockhash(node))
    return VersionedTransaction(message, [payer])


def test_cluster_methods(node: NodeProcess) -> None:
    version = node.result("getVersion")
    assert version["solana-core"] and "heliostat" in version
    assert node.result("getHealth") == "ok"
    genesis = node.result("getGenesisHash")
    assert len(base58.b58decode(genesis)) == 32
    processed = node.result("getSlot", {"commitment": "processed"})
    confirmed = node.result("getSlot", {"commitment": "confirmed"})
    assert processed >= 1 and processed >= confirmed >= 0
    assert node.result("getSlot", {"commitment": "finalized"}) == 0  # nothing proven on L1
    assert node.result("getBlockHeight", {"commitment": "confirmed"}) >= confirmed
    info = node.result("getEpochInfo", {"commitment": "processed"})
    assert info["absoluteSlot"] >= processed and info["slotsInEpoch"] == 432_000
    latest = node.result("getLatestBlockhash", {"commitment": "confirmed"})["value"]
    assert latest["lastValidBlockHeight"] >= confirmed + 150 - 1
    assert node.result("isBlockhashValid", latest["blockhash"])["value"] is True
    assert node.result("isBlockhashValid", str(Hash.new_unique()))["value"] is False
    assert node.result("getMinimumBalanceForRentExemption", 165) == 2_039_280


def test_airdrop_balance_account_and_statuses(node: NodeProcess) -> None:
    who = Keypair().pubkey()
    signature = _airdrop(node, who, 3_000_000_000)
    assert node.result("getBalance", str(who))["value"] == 3_000_000_000
    info = node.result("getAccountInfo", str(who), {"encoding": "base64"})["value"]
    assert info["lamports"] == 3_000_000_000 and info["owner"] == "11111111111111111111111111111111"
    assert info["data"] == ["", "base64"] and info["space"] == 0
    unknown = str(Keypair().sign_message(b"never sent"))
    status = node.result("getSignatureStatuses", [signature, unknown])
    assert status["value"][1] is None
    first = status["value"][0]
    assert first["err"] is None and first["status"] == {"Ok": None}
    assert first["confirmationStatus"] in ("processed", "confirmed")
    missing = node.result(
        "getMultipleAccounts", [str(who), str(Keypair().pubkey())], {"encoding": "base64"}
    )
    assert missing["value"][0]["lamports"] == 3_000_000_000 and missing["value"][1] is None


def test_send_legacy_and_v0_base58_and_base64(node: NodeProcess) -> None:
    payer = Keypair()
    _airdrop(node, payer.pubkey(), 5_000_000_000)
    to = Keypair().pubkey()
    tx = _transfer(node, payer, to, 1_000_000)
    signature = node.result("sendTransaction", base58.b58encode(bytes(tx)))
    assert signature == str(tx.signatures[0])
    tx2 = _transfer(node, payer, to, 2_000_000, v0=True)
    encoded = base64.b64encode(bytes(tx2)).decode()
    assert node.result("sendTransaction", encoded, {"encoding": "base64"}) == str(tx2.signatures[0])
    assert node.result("getBalance", str(to))["value"] == 3_000_000
    assert (
        node.result("getBalance", str(payer.pubkey()))["value"]
        == 5_000_000_000 - 3_000_000 - 10_000
    )
    # v0 needs maxSupportedTransactionVersion in getTransaction, as in agave.
    import time

    deadline = time.monotonic() + 5
    while (
        node.result("getSignatureStatuses", [signature])["value"][0]["confirmationStatus"]
        != "confirmed"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    while (
        node.result("getSignatureStatuses", [str(tx2.signatures[0])])["value"][0][
            "confirmationStatus"
        ]
        != "confirmed"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    got = node.result("getTransaction", signature, {"commitment": "confirmed"})
    assert got["transaction"]["signatures"] == [signature]
    assert got["meta"]["fee"] == 5000 and got["meta"]["err"] is None
    assert got["meta"]["postBalances"][1] - got["meta"]["preBalances"][1] == 1_000_000
    refused = node.call("getTransaction", str(tx2.signatures[0]), {"commitment": "confirmed"})
    assert refused["error"]["code"] == -32015
    got2 = node.result(
        "getTransaction",
        str(tx2.signatures[0]),
        {"commitment": "confirmed", "maxSupportedTransactionVersion": 0, "encoding": "base64"},
    )
    assert got2["version"] == 0
    assert base64.b64decode(got2["transaction"][0]) == bytes(tx2)
    block = node.result(
        "getBlock", got["slot"], {"commitment": "confirmed", "maxSupportedTransactionVersion": 0}
    )
    assert signature in [t["transaction"]["signatures"][0] for t in block["transactions"]]
    assert node.result("getBlocks", got["slot"], got["slot"], {"commitment": "confirmed"}) == [
        got["slot"]
    ]
    history = node.result("getSignaturesForAddress", str(to))
    assert [h["signature"] for h in history] == [str(tx2.signatures[0]), signature]


def test_simulate_and_fee_for_message(node: NodeProcess) -> None:
    payer = Keypair()
    _airdrop(node, payer.pubkey(), 1_000_000_000)
    tx = _transfer(node, payer, Keypair().pubkey(), 10**15)  # more than the payer has
    encoded = base64.b64encode(bytes(tx)).decode()
    sim = node.result("simulateTransaction", encoded, {"encoding": "base64"})["value"]
    assert sim["err"] == {"InstructionError": [0, {"Custom": 1}]}
    assert any("insufficient lamports" in line for line in sim["logs"])
    assert sim["unitsConsumed"] == 150
    # Preflight failure: -32002 with the simulation result, nothing charged.
    answer = node.call("sendTransaction", encoded, {"encoding": "base64"})
    assert answer["error"]["code"] == -32002
    assert answer["error"]["message"].startswith(
        "Transaction simulation failed: Error processing Instruction 0"
    )
    assert answer["error"]["data"]["err"] == {"InstructionError": [0, {"Custom": 1}]}
    assert node.result("getBalance", str(payer.pubkey()))["value"] == 1_000_000_000
    message = base64.b64encode(bytes(tx.message)).decode()
    assert node.result("getFeeForMessage", message)["value"] == 5000
    # replaceRecentBlockhash makes a stale blockhash simulate.
    stale = VersionedTransaction(
        Message.new_with_blockhash(
            [
                transfer(
                    TransferParams(from_pubkey=payer.pubkey(), to_pubkey=payer.pubkey(), lamports=1)
                )
            ],
            payer.pubkey(),
            Hash.new_unique(),
        ),
        [payer],
    )
    raw = base64.b64encode(bytes(stale)).decode()
    assert (
        node.result("simulateTransaction", raw, {"encoding": "base64"})["value"]["err"]
        == "BlockhashNotFound"
    )
    replaced = node.result(
        "simulateTransaction", raw, {"encoding": "base64", "replaceRecentBlockhash": True}
    )["value"]
    assert replaced["err"] is None and replaced["replacementBlockhash"] is not None


def test_receipt_and_batch_extensions(node: NodeProcess) -> None:
    from heliostat.sdk.receipts import verify_receipt

    who = Keypair().pubkey()
    signature = _airdrop(node, who, 1_000_000)
    info = node.result("heliostat_getSequencerInfo")
    assert info["executor"] == "runtime"
    receipt = node.result("heliostat_getReceipt", signature)
    parsed = verify_receipt(
        base64.b64decode(receipt["receipt"]),
        Pubkey.from_string(info["sequencer"]),
        genesis_hash=base58.b58decode(info["genesisHash"]),
    )
    assert parsed.body.slot == receipt["slot"] and parsed.body.seq == receipt["seq"]
    assert node.result("heliostat_getBatchStatus", 10**9) is None
    assert node.result("heliostat_getBatchProof", 10**9) is None
