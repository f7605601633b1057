// Sessions with the official client: @x402/fetch pays POST /api/sessions (deposit = 100 x the GET price), then plain fetch
// spends it with the Payment-Session header and no payment: 100 GETs are served, the 101st answers 402 (fresh challenge +
// top-up hint); @x402/fetch pays a top-up; a few more GETs; close refunds the remainder.
// Env: GATE_URL, PRIVATE_KEY, CONTENT_KEY (optional). Prints one JSON line.
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { privateKeyToAccount } from "viem/accounts";
import { contentKey, decodeBase64Json, describe, gateUrl, privateKey, recordingFetch, run } from "./lib.mjs";

await run(async () => {
  const gate = gateUrl();
  const account = privateKeyToAccount(privateKey());
  const client = new x402Client().register("eip155:*", new ExactEvmScheme(account));
  const recorder = recordingFetch();
  const pay = wrapFetchWithPayment(recorder.fetch, client);
  const json = (body) => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

  // The GET price, from the gate's own price list.
  const pricing = await (await fetch(`${gate}/api/pricing`)).json();
  const getRoute = pricing.routes.find((r) => r.method === "GET" && r.path === "/api/content/{**key}");
  const price = BigInt(getRoute.amount);

  // Something to read: stored with an ordinary x402 payment.
  const key = contentKey("sessions");
  const value = `interop sessions ${key}`;
  const url = `${gate}/api/content/${encodeURIComponent(key)}`;
  const put = await describe(await pay(url, { method: "PUT", headers: { "Content-Type": "text/plain" }, body: value }));
  if (put.status >= 300) throw new Error(`PUT answered ${put.status}: ${put.body}`);

  // Open: the 402 asks for exactly the deposit; @x402/fetch pays it.
  const deposit = (price * 100n).toString();
  const openResponse = await pay(`${gate}/api/sessions`, json({ deposit }));
  const token = openResponse.headers.get("Payment-Session");
  const open = await describe(openResponse);
  if (open.status !== 201 || !token) throw new Error(`open answered ${open.status}: ${open.body}`);
  const session = JSON.parse(open.body);
  const openOffer = recorder.exchanges.filter((e) => e.url.endsWith("/api/sessions"));

  // 100 requests with the token and no payment (plain fetch), then the 101st.
  const spend = async () => {
    const response = await fetch(url, { headers: { "Payment-Session": token } });
    return { status: response.status, balance: response.headers.get("Payment-Session-Balance"), body: await response.text(),
      paymentRequired: decodeBase64Json(response.headers.get("PAYMENT-REQUIRED")) };
  };
  const served = [];
  for (let i = 0; i < 100; i++) served.push(await spend());
  const bad = served.filter((r) => r.status !== 200 || !r.body.includes(value));
  if (bad.length) throw new Error(`${bad.length} of 100 session requests failed, first: ${JSON.stringify(bad[0])}`);
  const refused = await spend();
  const refusedBody = JSON.parse(refused.body);

  // Top up with @x402/fetch (the 402 asks for the amount), spend a little, close.
  const topUpAmount = (price * 5n).toString();
  const topUp = await describe(await pay(`${gate}/api/sessions/${session.id}/topup`, json({ amount: topUpAmount })));
  const afterTopUp = [];
  for (let i = 0; i < 3; i++) afterTopUp.push(await spend());
  const close = await fetch(`${gate}/api/sessions/${session.id}/close`, { method: "POST", headers: { "Payment-Session": token } });
  const closed = { status: close.status, body: await close.json() };
  const afterClose = await spend();

  return {
    client: "@x402/fetch + fetch", payer: account.address, price: price.toString(), deposit, session, openOffer,
    open: { status: open.status, paymentResponse: open.paymentResponse },
    balances: served.map((r) => r.balance),
    refused: { status: refused.status, balance: refused.balance, topUp: refusedBody.topUp, accepts: refusedBody.accepts,
      x402Version: refusedBody.x402Version, paymentRequired: refused.paymentRequired },
    topUp: { status: topUp.status, body: JSON.parse(topUp.body), paymentResponse: topUp.paymentResponse, amount: topUpAmount },
    afterTopUp: afterTopUp.map((r) => ({ status: r.status, balance: r.balance })),
    closed, afterClose: { status: afterClose.status },
  };
});
