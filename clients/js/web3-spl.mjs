// Drives a Heliostat node with @solana/web3.js 1.x and @solana/spl-token, as an app would.
// Usage: node web3-spl.mjs http://127.0.0.1:PORT  -> prints one JSON line with what it saw.
import {
  Connection, Keypair, LAMPORTS_PER_SOL, SystemProgram, Transaction, sendAndConfirmTransaction,
} from '@solana/web3.js';
import {
  createMint, getAccount, getMint, getOrCreateAssociatedTokenAccount, mintTo, transfer,
} from '@solana/spl-token';

const url = process.argv[2];
const connection = new Connection(url, 'confirmed'); // websocket: the same URL, port + 1
const payer = Keypair.generate();
const friend = Keypair.generate();
const signatures = [];

const airdrop = await connection.requestAirdrop(payer.publicKey, 10 * LAMPORTS_PER_SOL);
const latest = await connection.getLatestBlockhash();
await connection.confirmTransaction({ signature: airdrop, ...latest }, 'confirmed');
signatures.push(airdrop);

const solTransfer = new Transaction().add(
  SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: friend.publicKey, lamports: LAMPORTS_PER_SOL }),
);
signatures.push(await sendAndConfirmTransaction(connection, solTransfer, [payer]));

const mint = await createMint(connection, payer, payer.publicKey, null, 6);
const mine = await getOrCreateAssociatedTokenAccount(connection, payer, mint, payer.publicKey);
const theirs = await getOrCreateAssociatedTokenAccount(connection, payer, mint, friend.publicKey);
signatures.push(await mintTo(connection, payer, mint, mine.address, payer, 5_000_000n));
signatures.push(await transfer(connection, payer, mine.address, theirs.address, payer, 1_250_000n));
// Idempotent: a second call finds the account and sends nothing.
const again = await getOrCreateAssociatedTokenAccount(connection, payer, mint, friend.publicKey);

const mineAfter = await getAccount(connection, mine.address);
const theirsAfter = await getAccount(connection, theirs.address);
const mintAfter = await getMint(connection, mint);
const parsed = await connection.getParsedAccountInfo(theirs.address);
const byOwner = await connection.getParsedTokenAccountsByOwner(friend.publicKey, { mint });
const balance = await connection.getTokenAccountBalance(theirs.address);

console.log(JSON.stringify({
  payer: payer.publicKey.toBase58(),
  friend: friend.publicKey.toBase58(),
  mint: mint.toBase58(),
  mine: mine.address.toBase58(),
  theirs: theirs.address.toBase58(),
  sameAta: again.address.equals(theirs.address),
  payerLamports: await connection.getBalance(payer.publicKey),
  friendLamports: await connection.getBalance(friend.publicKey),
  mineAmount: mineAfter.amount.toString(),
  theirsAmount: theirsAfter.amount.toString(),
  supply: mintAfter.supply.toString(),
  parsedAmount: parsed.value.data.parsed.info.tokenAmount.amount,
  byOwnerCount: byOwner.value.length,
  uiBalance: balance.value.uiAmountString,
  signatures,
}));
process.exit(0);
