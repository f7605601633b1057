// Opens prepaid sessions for the session scenarios of the gate benchmark, each paid by the official client (@x402/fetch,
// @x402/evm exact scheme, viem local account) as tests/Interop/open-session.mjs does, so that wrk only sends tokens.
// For each of COUNT sessions: a fresh wallet funded through POST /dev/faucet; POST /api/sessions with a deposit for
// REQUESTS reads of GET /api/content/<CONTENT_KEY> plus one PUT of that key (content is payer-scoped: the session's
// payer must find its own key, a 404 would be credited back and not counted as served), the PUT paid by the session's
// token, and one GET to check the token pays. Writes the tokens (st_...), one per line, to OUT.
// Env: GATE_URL, COUNT (default 16), REQUESTS (reads each session must cover), OUT, CONTENT_KEY (default "bench").
// Needs tests/Benchmarks/Peer's node_modules next to it (gate-benchmark.sh copies it beside a link).
import { writeFileSync } from "node:fs";
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

const gate = (process.env.GATE_URL || "http://localhost:8402").replace(/\/+$/, "");
const count = Number(process.env.COUNT || 16);
const requests = BigInt(process.env.REQUESTS || 100000);
const out = process.env.OUT || "sessions.txt";
const key = process.env.CONTENT_KEY || "bench";
const url = `${gate}/api/content/${key}`;
const faucetMax = 1_000_000_000n; // Facilitator:Local:FaucetMaxAmount's default: larger amounts take several calls

// Prices from the gate's own price list, in atomic units.
const pricing = await (await fetch(`${gate}/api/pricing`)).json();
const priceOf = method => BigInt(pricing.routes.find(r => r.method === method && r.path === "/api/content/{**key}").amount);
const deposit = priceOf("GET") * requests + priceOf("PUT");

async function check(response, what) {
  if (!response.ok) throw new Error(`${what} answered ${response.status}: ${await response.text()}`);
  return response;
}

const started = performance.now();
const tokens = [];
for (let i = 0; i < count; i++) {
  const account = privateKeyToAccount(generatePrivateKey());
  for (let funded = 0n; funded < deposit; funded += faucetMax) {
    const amount = deposit - funded < faucetMax ? deposit - funded : faucetMax;
    await check(await fetch(`${gate}/dev/faucet`, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ address: account.address, amount: String(amount) }) }), "faucet");
  }
  // A deposit for a whole run is above the client's default cap of $1 per payment.
  const client = new x402Client().register("eip155:*", new ExactEvmScheme(account)).setSpendControls({ maxAmountPerPayment: false });
  const pay = wrapFetchWithPayment(fetch, client);
  const opened = await check(await pay(`${gate}/api/sessions`, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ deposit: String(deposit) }) }), `open (deposit ${deposit})`);
  const token = opened.headers.get("Payment-Session");
  if (!token) throw new Error("open answered without a Payment-Session token");
  await check(await fetch(url, { method: "PUT", headers: { "Content-Type": "text/plain", "Payment-Session": token },
    body: "benchmark value" }), `PUT ${url} with the session`);
  await (await check(await fetch(url, { headers: { "Payment-Session": token } }), `GET ${url} with the session`)).text();
  tokens.push(token);
}
writeFileSync(out, tokens.join("\n") + "\n");
console.error(`opened ${count} sessions of ${deposit} atomic units (${requests} reads each) in ${((performance.now() - started) / 1000).toFixed(1)} s -> ${out}`);
