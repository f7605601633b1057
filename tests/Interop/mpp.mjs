// MPP with the official client: mppx 0.11 (evm.charge, EIP-3009 "authorization" credentials) pays GET /api/content/<key>
// through the gate (Authorization: Payment -> 200 + Payment-Receipt); the same credential sent again is refused; @x402/fetch
// pays the same route in the same run (both protocols on one route); an MPP-paid POST /api/sessions opens a session whose
// Payment-Session token then pays 10 GETs with no further signature.
// Env: GATE_URL, PRIVATE_KEY, CONTENT_KEY (optional). Prints one JSON line.
import { Mppx, evm } from "mppx/client";
import { Receipt } from "mppx";
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { privateKeyToAccount } from "viem/accounts";
import { contentKey, decodeBase64Json, gateUrl, privateKey, run } from "./lib.mjs";

await run(async () => {
  const gate = gateUrl();
  const account = privateKeyToAccount(privateKey());

  // Every exchange mppx makes, with the credential it sent (to replay it) and what came back.
  const exchanges = [];
  const credentials = [];
  const recording = async (input, init) => {
    const request = new Request(input, init);
    const authorization = request.headers.get("Authorization");
    if (authorization?.startsWith("Payment ")) credentials.push(authorization);
    const response = await fetch(request);
    exchanges.push({
      method: request.method, path: new URL(request.url).pathname, status: response.status,
      sent: authorization?.startsWith("Payment ") ? "Authorization: Payment" : request.headers.has("PAYMENT-SIGNATURE") ? "PAYMENT-SIGNATURE" : null,
      challenge: response.headers.get("WWW-Authenticate"),
    });
    return response;
  };
  const mppx = Mppx.create({
    polyfill: false,
    fetch: recording,
    methods: [evm.charge({ account, networks: [84532], authorization: { name: "USDC", version: "2" } })],
  });
  const x402 = wrapFetchWithPayment(fetch, new x402Client().register("eip155:*", new ExactEvmScheme(account)));

  const pricing = await (await fetch(`${gate}/api/pricing`)).json();
  const price = BigInt(pricing.routes.find((r) => r.method === "GET" && r.path === "/api/content/{**key}").amount);

  // Something to read, stored with mppx too (PUT is the $0.01 route).
  const key = contentKey("mpp");
  const value = `interop mpp ${key}`;
  const url = `${gate}/api/content/${encodeURIComponent(key)}`;
  const put = await mppx.fetch(url, { method: "PUT", headers: { "Content-Type": "text/plain" }, body: value });
  if (put.status >= 300) throw new Error(`PUT answered ${put.status}: ${await put.text()}`);

  // GET paid by mppx: the resource and a decodable receipt.
  const paid = await mppx.fetch(url);
  const paidBody = await paid.text();
  const receiptHeader = paid.headers.get("Payment-Receipt");
  const mppGet = {
    status: paid.status, body: paidBody, cacheControl: paid.headers.get("Cache-Control"),
    receipt: receiptHeader ? Receipt.deserialize(receiptHeader) : null,
    paymentResponse: decodeBase64Json(paid.headers.get("PAYMENT-RESPONSE")),
  };

  // The very credential that paid, sent again by hand.
  const used = credentials.at(-1);
  const again = await fetch(url, { headers: { Authorization: used } });
  const replay = { status: again.status, contentType: again.headers.get("content-type"), problem: await again.json(),
    challenge: again.headers.get("WWW-Authenticate") };

  // The same route paid by the official x402 client in the same run.
  const viaX402 = await x402(url);
  const x402Get = { status: viaX402.status, body: await viaX402.text(), paymentResponse: decodeBase64Json(viaX402.headers.get("PAYMENT-RESPONSE")) };

  // A session paid with MPP: deposit = 10 GETs; the token pays them, the 11th is a 402 again.
  const deposit = (price * 10n).toString();
  const opened = await mppx.fetch(`${gate}/api/sessions`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ deposit }),
  });
  const token = opened.headers.get("Payment-Session");
  const openReceipt = opened.headers.get("Payment-Receipt");
  const open = { status: opened.status, body: await opened.json(), token, receipt: openReceipt ? Receipt.deserialize(openReceipt) : null };
  if (open.status !== 201 || !token) throw new Error(`open answered ${open.status}: ${JSON.stringify(open.body)}`);
  const spend = async () => {
    const response = await fetch(url, { headers: { "Payment-Session": token } });
    return { status: response.status, balance: response.headers.get("Payment-Session-Balance"), body: await response.text() };
  };
  const served = [];
  for (let i = 0; i < 10; i++) served.push(await spend());
  const eleventh = await spend();

  return { key, value, price: price.toString(), deposit, payer: account.address, exchanges, mppGet, replay, x402Get, open,
    served: served.map((s) => ({ status: s.status, balance: s.balance, matches: s.body.includes(value) })), eleventh: { status: eleventh.status } };
});
