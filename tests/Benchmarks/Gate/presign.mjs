// Pre-signs x402 v2 payments for the gate benchmark, with the official client code (@x402/evm exact scheme,
// viem local accounts), so the load generator only replays bytes.
//  - GATE_URL (the gate): WALLETS fresh wallets, each funded through POST /dev/faucet and each storing CONTENT_KEY once
//    (paid PUT), because content is payer-scoped: every payer's GET must find its own key (a 404 would not be settled).
//    The 402 of GET /api/content/<key> gives the exact requirements.
//  - PAY_URL (any x402 resource, e.g. the peer's paid route): the 402 of GET PAY_URL gives the requirements; no faucet,
//    no PUT (the peer's facilitator checks no balance).
// COUNT payments are signed for those requirements, round-robin over the wallets (spreads the ledger's per-payer
// balance rows), one PAYMENT-SIGNATURE per line. Env: GATE_URL or PAY_URL, COUNT, OUT (file), WALLETS (default 4),
// CONTENT_KEY (default "bench"). Needs tests/Benchmarks/Peer's node_modules next to it (ES modules ignore NODE_PATH:
// gate-benchmark.sh copies it beside a link). Signatures are valid for the requirement's maxTimeoutSeconds (300 s by
// default): run the benchmark right after.
// STATE (a file, optional): the first run with it writes the wallets' keys and the requirements there (funding each wallet
// for FUND_REQUESTS GETs, default COUNT / WALLETS); later runs with the same STATE only sign, without calling the server,
// so receipts-benchmark.sh signs each window's payments while the stacks are frozen.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { wrapFetchWithPayment, x402Client, x402HTTPClient } from "@x402/fetch";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

const payUrl = process.env.PAY_URL;
const gate = (process.env.GATE_URL || "http://localhost:8402").replace(/\/+$/, "");
const count = Number(process.env.COUNT || 1000);
const walletCount = Number(process.env.WALLETS || 4);
const out = process.env.OUT || "payments.txt";
const key = process.env.CONTENT_KEY || "bench";
const url = payUrl || `${gate}/api/content/${key}`;

const stateFile = process.env.STATE;
const state = stateFile && existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, "utf8")) : undefined;
const keys = state?.keys ?? Array.from({ length: walletCount }, () => generatePrivateKey());
const fundRequests = Number(process.env.FUND_REQUESTS || Math.ceil(count / walletCount));

const clients = [];
for (const privateKey of keys) {
  const account = privateKeyToAccount(privateKey);
  const client = new x402Client().register("eip155:*", new ExactEvmScheme(account));
  clients.push(client);
  if (payUrl || state) continue;
  const perWallet = fundRequests * 1000 + 1_000_000; // GETs at $0.001 + headroom for the PUT
  const faucet = await fetch(`${gate}/dev/faucet`, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ address: account.address, amount: String(perWallet) }) });
  if (!faucet.ok) throw new Error(`faucet answered ${faucet.status}: ${await faucet.text()}`);
  const put = await wrapFetchWithPayment(fetch, client)(url, { method: "PUT", headers: { "Content-Type": "text/plain" }, body: "benchmark value" });
  if (!put.ok) throw new Error(`paid PUT ${url} answered ${put.status}: ${await put.text()}`);
}

let paymentRequired = state?.paymentRequired;
if (!paymentRequired) {
  const unpaid = await fetch(url);
  if (unpaid.status !== 402) throw new Error(`GET ${url} without payment answered ${unpaid.status}, expected 402`);
  const http = new x402HTTPClient(clients[0]);
  paymentRequired = http.getPaymentRequiredResponse(name => unpaid.headers.get(name), await unpaid.json().catch(() => undefined));
  if (stateFile) writeFileSync(stateFile, JSON.stringify({ keys, paymentRequired }));
}

const started = performance.now();
const lines = [];
for (let i = 0; i < count; i++) {
  const client = clients[i % clients.length];
  const payload = await client.createPaymentPayload(paymentRequired);
  lines.push(new x402HTTPClient(client).encodePaymentSignatureHeader(payload)["PAYMENT-SIGNATURE"]);
}
writeFileSync(out, lines.join("\n") + "\n");
console.error(`signed ${count} payments for GET ${url} from ${keys.length} wallets in ${((performance.now() - started) / 1000).toFixed(1)} s -> ${out}`);
