// Legacy x402 v1 with the official client: x402-fetch 1.2 + a viem wallet client on Base Sepolia. The gate's
// 402 carries the v1 JSON body next to the v2 header; this client reads the body and pays with X-PAYMENT.
// PUT /api/content/<key> with a body, then GET it back. Env: GATE_URL, PRIVATE_KEY, CONTENT_KEY (optional).
import { wrapFetchWithPayment } from "x402-fetch";
import { createWalletClient, http, publicActions } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { baseSepolia } from "viem/chains";
import { contentKey, describe, gateUrl, privateKey, recordingFetch, run } from "./lib.mjs";

await run(async () => {
  const gate = gateUrl();
  const account = privateKeyToAccount(privateKey());
  // Signing is local (EIP-712 typed data); the transport is never called, the loopback URL makes sure of it.
  const wallet = createWalletClient({ account, chain: baseSepolia, transport: http("http://127.0.0.1:9") }).extend(publicActions);
  const recorder = recordingFetch();
  const pay = wrapFetchWithPayment(recorder.fetch, wallet);

  const key = contentKey("v1");
  const value = `interop v1 ${key} ${new Date().toISOString()}`;
  const url = `${gate}/api/content/${encodeURIComponent(key)}`;
  const put = await describe(await pay(url, { method: "PUT", headers: { "Content-Type": "text/plain" }, body: value }));
  const get = await describe(await pay(url, { method: "GET" }));
  return { client: "x402-fetch", payer: account.address, key, value, put, get, exchanges: recorder.exchanges };
});
