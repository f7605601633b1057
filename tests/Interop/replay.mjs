// Replay protection with payment headers made by the official client (@x402/fetch + @x402/evm).
//  1. PUT /api/content/<key> (paid) so that a GET has something to serve (a 404 would not be settled anyway).
//  2. sequential: the client pays GET /api/content/<key>; the PAYMENT-SIGNATURE it sent is captured and sent
//     again, twice, one after the other.
//  3. concurrent: a second payment for the same GET is captured WITHOUT being sent, then sent 20 times at once.
// Expected: exactly one 2xx per payment header; the ledger charges each payment once.
// Env: GATE_URL, PRIVATE_KEY, CONTENT_KEY (optional), CONCURRENCY (default 20). Prints one JSON line.
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { privateKeyToAccount } from "viem/accounts";
import { contentKey, decodeBase64Json, describe, gateUrl, privateKey, run } from "./lib.mjs";

/** A fetch that records the payment header the client sends; with hold=true it keeps the request to itself. */
function capturingFetch({ hold }) {
  const captured = [];
  const fetchFn = async (input, init) => {
    const request = new Request(input, init);
    const header = request.headers.get("PAYMENT-SIGNATURE");
    if (header) {
      captured.push({ header, headers: Object.fromEntries(request.headers) });
      if (hold) return new Response("held by the test", { status: 200 });
    }
    return fetch(request);
  };
  return { fetch: fetchFn, captured };
}

const summarize = async response => {
  const d = await describe(response);
  return { status: d.status, settled: d.paymentResponse?.success ?? null, transaction: d.paymentResponse?.transaction ?? null,
    body: d.status >= 400 ? d.body.slice(0, 300) : undefined };
};

await run(async () => {
  const gate = gateUrl();
  const concurrency = Number(process.env.CONCURRENCY || 20);
  const account = privateKeyToAccount(privateKey());
  const client = new x402Client().register("eip155:*", new ExactEvmScheme(account));
  const key = contentKey("replay");
  const url = `${gate}/api/content/${encodeURIComponent(key)}`;

  const put = await summarize(await wrapFetchWithPayment(fetch, client)(url, { method: "PUT", headers: { "Content-Type": "text/plain" }, body: `replay ${key}` }));

  // 2. sequential replay of a header that was already served once.
  const first = capturingFetch({ hold: false });
  const original = await summarize(await wrapFetchWithPayment(first.fetch, client)(url));
  if (first.captured.length !== 1) throw new Error(`expected one captured payment header, got ${first.captured.length}`);
  const replayHeaders = { "PAYMENT-SIGNATURE": first.captured[0].header };
  const sequential = [];
  for (let i = 0; i < 2; i++) sequential.push(await summarize(await fetch(url, { headers: replayHeaders })));

  // 3. a fresh, never-sent header, 20 times at once.
  const second = capturingFetch({ hold: true });
  await (await wrapFetchWithPayment(second.fetch, client)(url)).text();
  if (second.captured.length !== 1) throw new Error(`expected one held payment header, got ${second.captured.length}`);
  const freshHeaders = { "PAYMENT-SIGNATURE": second.captured[0].header };
  const concurrent = await Promise.all(Array.from({ length: concurrency }, async () => summarize(await fetch(url, { headers: freshHeaders }))));

  const ok = list => list.filter(r => r.status >= 200 && r.status < 300).length;
  const nonceOf = h => decodeBase64Json(h)?.payload?.authorization?.nonce;
  return {
    client: "@x402/fetch", payer: account.address, key, put,
    sequential: { nonce: nonceOf(first.captured[0].header), original, replays: sequential, served: ok([original, ...sequential]) },
    concurrent: { nonce: nonceOf(second.captured[0].header), count: concurrency, served: ok(concurrent),
      statuses: concurrent.map(r => r.status), results: concurrent },
  };
});
