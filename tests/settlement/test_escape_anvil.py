"""Escape withdrawals on anvil through a real state tree: only the account's own ed25519
authorisation of this recipient, amount, rollup and chain pays, once; accounts whose key
alone cannot move their lamports on L2 (program-owned, or carrying data) cannot escape."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from solders.keypair import Keypair
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from heliostat.runtime.state_tree import AccountValue, MembershipProof, StateTree, prove
from heliostat.settlement import rollup

GWEI = 10**9
DEADLINE_S = 600
TOKEN_PROGRAM = bytes(range(1, 33))  # any owner other than the System Program


@dataclass
class Escaped:
    """A rollup in escape mode over a state tree of known keypairs, and a second rollup."""

    contract: Contract
    other: Contract
    tree: StateTree
    keypairs: dict[str, Keypair]
    accounts: dict[bytes, AccountValue]

    def proof(self, name: str) -> MembershipProof:
        proof = prove(self.tree, bytes(self.keypairs[name].pubkey()))
        assert isinstance(proof, MembershipProof)
        return proof

    def lamports(self, name: str) -> int:
        return self.accounts[bytes(self.keypairs[name].pubkey())].lamports


@pytest.fixture(scope="module")
def escaped(w3: Web3) -> Escaped:
    rng = random.Random(11)
    names = ("alice", "bob", "carol", "dave", "program_owned", "with_data")
    keypairs = {name: Keypair.from_seed(rng.randbytes(32)) for name in names}
    values = {name: AccountValue(rng.randrange(1, 10**9)) for name in names[:4]}
    values["program_owned"] = AccountValue(5 * 10**8, owner=TOKEN_PROGRAM)
    values["with_data"] = AccountValue(6 * 10**8, data=bytes(80))  # like a nonce account
    accounts = {bytes(keypairs[n].pubkey()): v for n, v in values.items()}
    tree = StateTree.from_accounts(accounts)
    artifacts = rollup.compile_rollup(with_mocks=True)
    state_verifier = rollup.deploy(w3, artifacts["StateTreeAccountVerifier"]).address
    batches = rollup.deploy(w3, artifacts["MockBatchVerifier"]).address
    args = (batches, state_verifier, tree.root(), DEADLINE_S)
    contracts = [rollup.deploy(w3, artifacts["HeliostatRollup"], *args) for _ in range(2)]
    me = w3.eth.accounts[0]
    contract = contracts[0]
    w3.eth.wait_for_transaction_receipt(
        contract.functions.depositETH(bytes(32)).transact({"from": me, "value": 10**18})
    )  # the bridge's funds, and a priority operation nobody processes
    w3.provider.make_request("evm_increaseTime", [DEADLINE_S + 1])
    w3.provider.make_request("evm_mine", [])
    w3.eth.wait_for_transaction_receipt(
        contract.functions.activateEscapeMode().transact({"from": me})
    )
    return Escaped(contract, contracts[1], tree, keypairs, accounts)


def test_the_escape_message_is_the_contracts(w3: Web3, escaped: Escaped) -> None:
    account = bytes(escaped.keypairs["alice"].pubkey())
    recipient = w3.eth.accounts[5]
    on_chain = escaped.contract.functions.escapeMessage(account, 12345, recipient).call()
    ours = rollup.escape_message(
        w3.eth.chain_id, escaped.contract.address, account, 12345, recipient
    )
    assert on_chain == ours and len(ours) == 128


def _refused(call, reason: str) -> None:
    with pytest.raises(ContractLogicError, match=reason):
        call.call({"from": Web3.to_checksum_address("0x" + "77" * 20)})


def test_authorisations_for_anything_else_are_refused(w3: Web3, escaped: Escaped) -> None:
    contract, keypair = escaped.contract, escaped.keypairs["bob"]
    account, lamports = bytes(keypair.pubkey()), escaped.lamports("bob")
    recipient, thief = w3.eth.accounts[5], w3.eth.accounts[6]
    blob = rollup.encode_account_proof(escaped.proof("bob"))
    chain_id = w3.eth.chain_id

    def signed(*, signer: Keypair = keypair, chain: int = chain_id, at: str = contract.address,
               amount: int = lamports, to: str = recipient) -> bytes:  # fmt: skip
        return bytes(signer.sign_message(rollup.escape_message(chain, at, account, amount, to)))

    def call(signature: bytes, to: str = recipient):
        return contract.functions.escapeWithdraw(account, lamports, to, signature, blob)

    # the honest authorisation passes every check (only called here, not sent)
    assert call(signed()).call({"from": thief}) == []
    _refused(call(signed(signer=escaped.keypairs["alice"])), "invalid owner signature")
    _refused(call(signed(), to=thief), "invalid owner signature")  # signed for another recipient
    _refused(call(signed(amount=lamports - 1)), "invalid owner signature")
    _refused(call(signed(at=escaped.other.address)), "invalid owner signature")
    _refused(call(signed(chain=chain_id + 1)), "invalid owner signature")
    tampered = bytearray(signed())
    tampered[0] ^= 1  # R
    _refused(call(bytes(tampered)), "invalid owner signature")
    _refused(call(signed()[:63]), "signature must be 64 bytes")


def test_an_escape_withdrawal_is_paid_once(w3: Web3, escaped: Escaped) -> None:
    keypair, lamports = escaped.keypairs["carol"], escaped.lamports("carol")
    recipient = w3.eth.accounts[7]
    escape = rollup.escape_withdraw_call(
        escaped.contract, keypair, lamports, recipient, escaped.proof("carol")
    )
    before = w3.eth.get_balance(recipient)
    receipt = w3.eth.wait_for_transaction_receipt(escape.transact({"from": w3.eth.accounts[0]}))
    assert receipt["status"] == 1
    assert w3.eth.get_balance(recipient) - before == lamports * GWEI
    (event,) = escaped.contract.events.EscapeWithdrawal().process_receipt(receipt)
    assert event["args"]["account"] == bytes(keypair.pubkey())
    assert receipt["gasUsed"] < 4_000_000, receipt["gasUsed"]  # Poseidon2 path + ed25519
    _refused(escape, "escape withdrawal already made")  # replayed as is
    again = rollup.escape_withdraw_call(
        escaped.contract, keypair, lamports, w3.eth.accounts[8], escaped.proof("carol")
    )
    _refused(again, "escape withdrawal already made")  # a fresh authorisation elsewhere


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("program_owned", "escape needs a system-owned account"),
        ("with_data", "escape needs an account without data"),
    ],
)
def test_accounts_the_key_does_not_control_cannot_escape(
    w3: Web3, escaped: Escaped, name: str, reason: str
) -> None:
    escape = rollup.escape_withdraw_call(
        escaped.contract, escaped.keypairs[name], escaped.lamports(name), w3.eth.accounts[5],
        escaped.proof(name),
    )  # fmt: skip
    _refused(escape, reason)


def test_escape_message_fields_are_checked() -> None:
    address = "0x" + "11" * 20
    with pytest.raises(rollup.EscapeInputError) as short:
        rollup.escape_message(1, address, bytes(31), 5, address)
    assert (short.value.expected, short.value.got) == (32, 31)
    with pytest.raises(rollup.EscapeInputError, match="lamports"):
        rollup.escape_message(1, address, bytes(32), 1 << 64, address)
