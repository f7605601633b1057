// x402 v2 with the official client: @x402/fetch + @x402/evm exact scheme (EIP-3009) + a viem local account.
// PUT /api/content/<key> with a body, then GET it back, both paid through the gate.
// Env: GATE_URL, PRIVATE_KEY, CONTENT_KEY (optional). Prints one JSON line.
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { privateKeyToAccount } from "viem/accounts";
import { contentKey, describe, gateUrl, privateKey, recordingFetch, run } from "./lib.mjs";

await run(async () => {
  const gate = gateUrl();
  const account = privateKeyToAccount(privateKey());
  const client = new x402Client().register("eip155:*", new ExactEvmScheme(account));
  const recorder = recordingFetch();
  const pay = wrapFetchWithPayment(recorder.fetch, client);

  const key = contentKey("v2");
  const value = `interop v2 ${key} ${new Date().toISOString()}`;
  const url = `${gate}/api/content/${encodeURIComponent(key)}`;
  const put = await describe(await pay(url, { method: "PUT", headers: { "Content-Type": "text/plain" }, body: value }));
  const get = await describe(await pay(url, { method: "GET" }));
  return { client: "@x402/fetch", payer: account.address, key, value, put, get, exchanges: recorder.exchanges };
});
