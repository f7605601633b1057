// Is our local facilitator compatible with the official resource server? An @x402/express app (exact EVM server
// scheme on eip155:84532, HTTPFacilitatorClient pointed at FACILITATOR_URL, default ${GATE_URL}/facilitator) is
// started on a free loopback port; @x402/fetch then pays its route. The express app calls /supported (at start),
// /verify and /settle on our facilitator, exactly as it would call x402.org's.
// Env: GATE_URL, PRIVATE_KEY, FACILITATOR_URL (optional), PAY_TO (optional, default the demo merchant).
// SERVE_ONLY=1: only serve the app (no PRIVATE_KEY, no client), print `listening http://127.0.0.1:PORT` and run until
// killed, for another client to pay (tests/Interop.Tests/DotNetClientTests: the .NET Sessions.Client).
import express from "express";
import { paymentMiddleware, x402ResourceServer } from "@x402/express";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { ExactEvmScheme as ExactEvmServerScheme } from "@x402/evm/exact/server";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { privateKeyToAccount } from "viem/accounts";
import { describe, gateUrl, privateKey, recordingFetch, run } from "./lib.mjs";

const DEMO_PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";

async function startApp() {
  const facilitatorUrl = (process.env.FACILITATOR_URL || `${gateUrl()}/facilitator`).replace(/\/+$/, "");
  const payTo = process.env.PAY_TO || DEMO_PAY_TO;
  const network = "eip155:84532";

  // The facilitator calls the express app makes, for the assertions (which endpoints, which answers).
  const facilitatorCalls = [];
  const facilitator = new HTTPFacilitatorClient({ url: facilitatorUrl });
  for (const method of ["verify", "settle", "getSupported"]) {
    const original = facilitator[method].bind(facilitator);
    facilitator[method] = async (...args) => {
      try {
        const result = await original(...args);
        facilitatorCalls.push({ method, result });
        return result;
      } catch (error) {
        facilitatorCalls.push({ method, error: String(error) });
        throw error;
      }
    };
  }
  const resourceServer = new x402ResourceServer(facilitator).register(network, new ExactEvmServerScheme());

  const app = express();
  app.use(paymentMiddleware({
    "GET /premium": {
      accepts: { scheme: "exact", price: "$0.001", network, payTo },
      description: "interop: an @x402/express route settled by our facilitator",
      mimeType: "application/json",
    },
  }, resourceServer));
  app.get("/premium", (_req, res) => res.json({ premium: true }));
  app.get("/free", (_req, res) => res.json({ free: true }));

  const server = await new Promise((resolve, reject) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
    s.on("error", reject);
  });
  return { server, facilitatorUrl, payTo, facilitatorCalls };
}

if (process.env.SERVE_ONLY === "1") {
  const { server } = await startApp();
  console.log(`listening http://127.0.0.1:${server.address().port}`);
} else await run(async () => {
  const { server, facilitatorUrl, payTo, facilitatorCalls } = await startApp();
  try {
    const base = `http://127.0.0.1:${server.address().port}`;
    const account = privateKeyToAccount(privateKey());
    const recorder = recordingFetch();
    const pay = wrapFetchWithPayment(recorder.fetch, new x402Client().register("eip155:*", new ExactEvmScheme(account)));
    const unpaid = await describe(await fetch(`${base}/premium`));
    const paid = await describe(await pay(`${base}/premium`));
    return { client: "@x402/fetch", server: "@x402/express", facilitatorUrl, payTo, payer: account.address,
      unpaid: { status: unpaid.status, paymentRequired: unpaid.paymentRequired }, paid, facilitatorCalls, exchanges: recorder.exchanges };
  } finally {
    server.closeAllConnections?.();
    await new Promise(resolve => server.close(resolve));
  }
});
