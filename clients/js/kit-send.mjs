// Drives a Heliostat node with @solana/kit: airdrop and a transfer confirmed over the websocket.
// Usage: node kit-send.mjs http://127.0.0.1:PORT ws://127.0.0.1:PORT+1
import {
  airdropFactory, appendTransactionMessageInstruction, createSolanaRpc,
  createSolanaRpcSubscriptions, createTransactionMessage, generateKeyPairSigner,
  getSignatureFromTransaction, lamports, pipe, sendAndConfirmTransactionFactory,
  setTransactionMessageFeePayerSigner, setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from '@solana/kit';
import { getTransferSolInstruction } from '@solana-program/system';

const [url, wsUrl] = process.argv.slice(2);
const rpc = createSolanaRpc(url);
const rpcSubscriptions = createSolanaRpcSubscriptions(wsUrl);
const sender = await generateKeyPairSigner();
const receiver = await generateKeyPairSigner();

const airdropSignature = await airdropFactory({ rpc, rpcSubscriptions })({
  recipientAddress: sender.address,
  lamports: lamports(2_000_000_000n),
  commitment: 'confirmed',
});

const { value: latestBlockhash } = await rpc.getLatestBlockhash({ commitment: 'confirmed' }).send();
const message = pipe(
  createTransactionMessage({ version: 0 }),
  (m) => setTransactionMessageFeePayerSigner(sender, m),
  (m) => setTransactionMessageLifetimeUsingBlockhash(latestBlockhash, m),
  (m) => appendTransactionMessageInstruction(
    getTransferSolInstruction({ source: sender, destination: receiver.address, amount: lamports(500_000_000n) }), m),
);
const signed = await signTransactionMessageWithSigners(message);
await sendAndConfirmTransactionFactory({ rpc, rpcSubscriptions })(signed, { commitment: 'confirmed' });
const signature = getSignatureFromTransaction(signed);
const { value: receiverBalance } = await rpc.getBalance(receiver.address, { commitment: 'confirmed' }).send();
const { value: senderBalance } = await rpc.getBalance(sender.address, { commitment: 'confirmed' }).send();
console.log(JSON.stringify({
  sender: sender.address, receiver: receiver.address, airdropSignature, signature,
  senderLamports: senderBalance.toString(), receiverLamports: receiverBalance.toString(),
}));
process.exit(0);
