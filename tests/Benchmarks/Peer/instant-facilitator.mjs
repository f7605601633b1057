// A facilitator that answers yes at once: the x402 facilitator API (POST /verify, POST /settle, GET /supported, bodies
// as in docs/facilitator.md) with no signature check, no ledger and no chain. It is the cheapest facilitator there can
// be, so a paywall measured against it shows the paywall's own cost. Loopback only; never for real money.
// Env: PORT (default 0: a free port). Prints "listening http://127.0.0.1:<port>" on stdout once it accepts requests.
import { createHash } from "node:crypto";
import { createServer } from "node:http";

const supported = JSON.stringify({
  kinds: [
    { x402Version: 2, scheme: "exact", network: "eip155:84532" },
    { x402Version: 1, scheme: "exact", network: "base-sepolia" },
  ],
  extensions: [],
  signers: { "eip155:*": ["0x0000000000000000000000000000000000000001"] },
});

function answer(response, status, body) {
  response.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  response.end(body);
}

// The payer and the nonce as the exact EVM scheme carries them (v2 and v1 payloads alike).
function authorization(request) {
  return request?.paymentPayload?.payload?.authorization ?? {};
}

const server = createServer((request, response) => {
  if (request.method === "GET" && request.url === "/supported") return answer(response, 200, supported);
  if (request.method !== "POST" || (request.url !== "/verify" && request.url !== "/settle"))
    return answer(response, 404, JSON.stringify({ error: "not found" }));
  const chunks = [];
  request.on("data", chunk => chunks.push(chunk));
  request.on("end", () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return answer(response, 400, JSON.stringify({ error: "invalid json" }));
    }
    const { from, nonce } = authorization(body);
    if (request.url === "/verify") return answer(response, 200, JSON.stringify({ isValid: true, payer: from }));
    const requirements = body.paymentRequirements ?? {};
    // A transaction id unique per payment (the nonce is), shaped like a transaction hash.
    const transaction = "0x" + createHash("sha256").update(String(nonce ?? Math.random())).digest("hex");
    answer(response, 200, JSON.stringify({
      success: true, transaction, network: requirements.network, payer: from,
      amount: requirements.amount ?? requirements.maxAmountRequired,
    }));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT || 0), "127.0.0.1", () =>
  console.log(`listening http://127.0.0.1:${server.address().port}`));
