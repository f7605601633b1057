// Builds an exact-SVM payment with the official client (@x402/svm 2.27.0 + @solana/kit) against a fake
// Solana JSON-RPC on loopback, and prints the fixture ExactSvmVerifierOfficialFixtureTests reads.
// Run from a scratch dir: npm i @x402/svm@2.27.0 @x402/fetch@2.27.0 @solana/kit; node generate-official-fixture.mjs > official-client-payment.json
import http from "node:http";
import { createKeyPairSignerFromPrivateKeyBytes } from "@solana/kit";
import { ExactSvmScheme } from "@x402/svm/exact/client";

const TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
const MINT = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"; // USDC devnet
const BLOCKHASH = "9sHcv6xwn9YkB8nxTUGKDwPwNnmqVp5oAXxU8Fdkm4J6";
const seed = (byte) => new Uint8Array(32).fill(byte);

// An SPL mint account (82 bytes): COption<authority>, supply u64, decimals u8, initialized, COption<freeze>.
const mintData = Buffer.alloc(82);
mintData.writeBigUInt64LE(1_000_000_000_000n, 36);
mintData[44] = 6;
mintData[45] = 1;

const calls = [];
const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    const request = JSON.parse(body);
    calls.push({ method: request.method, params: request.params });
    let result;
    if (request.method === "getAccountInfo") {
      result = { context: { slot: 100 }, value: { data: [mintData.toString("base64"), "base64"], executable: false, lamports: 1461600, owner: TOKEN_PROGRAM, rentEpoch: 0, space: 82 } };
    } else if (request.method === "getLatestBlockhash") {
      result = { context: { slot: 100 }, value: { blockhash: BLOCKHASH, lastValidBlockHeight: 250 } };
    } else {
      res.end(JSON.stringify({ jsonrpc: "2.0", id: request.id, error: { code: -32601, message: "Method not found" } }));
      return;
    }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ jsonrpc: "2.0", id: request.id, result }));
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const rpcUrl = `http://127.0.0.1:${server.address().port}`;

const payer = await createKeyPairSignerFromPrivateKeyBytes(seed(1));
const payTo = (await createKeyPairSignerFromPrivateKeyBytes(seed(2))).address;
const feePayer = (await createKeyPairSignerFromPrivateKeyBytes(seed(3))).address;
const requirements = {
  scheme: "exact",
  network: "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
  amount: "10000",
  asset: MINT,
  payTo,
  maxTimeoutSeconds: 60,
  extra: { feePayer },
};
const { payload } = await new ExactSvmScheme(payer, { rpcUrl }).createPaymentPayload(2, requirements);
server.close();
console.log(JSON.stringify({ generator: "@x402/svm 2.27.0 ExactSvmScheme (client)", payer: payer.address, requirements, payload, rpcCalls: calls.map((c) => c.method), blockhash: BLOCKHASH }, null, 2));
