// The peer of the gate benchmark: the official @x402/express paywall (x402ResourceServer with the exact EVM scheme on
// Base Sepolia, HTTPFacilitatorClient on FACILITATOR_URL), one paid route and one free route, as its README shows.
//   GET /premium  $0.001, paid with PAYMENT-SIGNATURE (verify before the handler, settle after it)
//   GET /free     no payment
// Env: FACILITATOR_URL (required; instant-facilitator.mjs), PAY_TO (default the demo merchant), PORT (default 0: a free
// port). Prints "listening http://127.0.0.1:<port>" on stdout (the middleware reads /supported as it starts).
import express from "express";
import { paymentMiddleware, x402ResourceServer } from "@x402/express";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { ExactEvmScheme } from "@x402/evm/exact/server";

const facilitatorUrl = process.env.FACILITATOR_URL;
if (!facilitatorUrl) throw new Error("FACILITATOR_URL is required");
const payTo = process.env.PAY_TO || "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
const network = "eip155:84532";

const resourceServer = new x402ResourceServer(new HTTPFacilitatorClient({ url: facilitatorUrl }))
  .register(network, new ExactEvmScheme());

const app = express();
app.use(paymentMiddleware({
  "GET /premium": {
    accepts: { scheme: "exact", price: "$0.001", network, payTo },
    description: "benchmark: a paid route of the official paywall",
    mimeType: "application/json",
  },
}, resourceServer));
app.get("/premium", (_req, res) => res.json({ premium: true }));
app.get("/free", (_req, res) => res.json({ free: true }));

const server = app.listen(Number(process.env.PORT || 0), "127.0.0.1", () =>
  console.log(`listening http://127.0.0.1:${server.address().port}`));
server.keepAliveTimeout = 60_000;
