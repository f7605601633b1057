// One request paid by the official client (@x402/fetch): METHOD URL with an optional JSON BODY.
// Env: GATE_URL, PRIVATE_KEY, METHOD, URL_PATH (e.g. /api/vaults/vlt_…/documents), BODY (JSON, optional).
// Prints one JSON line: the final answer ({status, body, paymentResponse, ...}) and how many requests were made.
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { privateKeyToAccount } from "viem/accounts";
import { describe, gateUrl, privateKey, recordingFetch, requireEnv, run } from "./lib.mjs";

await run(async () => {
  const account = privateKeyToAccount(privateKey());
  const recorder = recordingFetch();
  const pay = wrapFetchWithPayment(recorder.fetch, new x402Client().register("eip155:*", new ExactEvmScheme(account)));
  const init = { method: requireEnv("METHOD") };
  if (process.env.BODY) Object.assign(init, { headers: { "Content-Type": "application/json" }, body: process.env.BODY });
  const answer = await describe(await pay(`${gateUrl()}${requireEnv("URL_PATH")}`, init));
  return { answer, requests: recorder.exchanges.length };
});
