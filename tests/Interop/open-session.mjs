// Opens a prepaid session paid by the official client (@x402/fetch): the test then drives the session with its token.
// Env: GATE_URL, PRIVATE_KEY, DEPOSIT (atomic units), TTL_SECONDS (optional). Prints one JSON line: {status, session, token}.
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { privateKeyToAccount } from "viem/accounts";
import { describe, gateUrl, privateKey, requireEnv, run } from "./lib.mjs";

await run(async () => {
  const account = privateKeyToAccount(privateKey());
  const pay = wrapFetchWithPayment(fetch, new x402Client().register("eip155:*", new ExactEvmScheme(account)));
  const body = { deposit: requireEnv("DEPOSIT") };
  if (process.env.TTL_SECONDS) body.ttlSeconds = Number(process.env.TTL_SECONDS);
  const response = await pay(`${gateUrl()}/api/sessions`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const token = response.headers.get("Payment-Session");
  const opened = await describe(response);
  if (opened.status !== 201 || !token) throw new Error(`open answered ${opened.status}: ${opened.body}`);
  return { status: opened.status, session: JSON.parse(opened.body), token };
});
