// MCP through the gate with the official client (@modelcontextprotocol/sdk, Streamable HTTP): tools listed with their input
// schemas; put-content unpaid -> the x402 payment-required tool result; paid with an x402 PaymentPayload signed by a viem
// account (@x402/fetch's x402Client + @x402/evm exact scheme) in _meta["x402/payment"] -> the result with the settlement in
// _meta["x402/payment-response"]; get-content reads it back (paid); a second payer sees none of the first's keys; a session
// token (Payment-Session header on the transport) pays 10 calls with no further signature; the content written over MCP is
// read over REST (GET /api/content/<key>) by the same payer (x402 and session token) and is 404 for the other payer.
// Env: GATE_URL, PRIVATE_KEY, PRIVATE_KEY_2. Prints one JSON line.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { privateKeyToAccount } from "viem/accounts";
import { contentKey, gateUrl, privateKey, run } from "./lib.mjs";

/** A payer: its viem account, an x402 client that counts the payloads it signs, and a paying fetch for REST. */
function payer(keyName) {
  const account = privateKeyToAccount(privateKey(keyName));
  const x402 = new x402Client().register("eip155:*", new ExactEvmScheme(account));
  const counted = { signatures: 0 };
  const sign = async (paymentRequired) => {
    counted.signatures++;
    return x402.createPaymentPayload(paymentRequired);
  };
  return { account, address: account.address, sign, counted, fetch: wrapFetchWithPayment(fetch, x402) };
}

async function connect(gate, headers = {}) {
  const client = new Client({ name: "sessions-interop", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${gate}/mcp`), { requestInit: { headers } });
  await client.connect(transport);
  return client;
}

/** What the test needs of a tool result: error flag, the text, structuredContent and the settlement. */
function summary(result) {
  return {
    isError: result.isError === true,
    text: result.content?.[0]?.text ?? null,
    structuredContent: result.structuredContent ?? null,
    settlement: result._meta?.["x402/payment-response"] ?? null,
  };
}

/** Calls a priced tool the x402 MCP way: unpaid first (payment-required result), then signed and retried with _meta. */
async function paidCall(client, who, name, args) {
  const unpaid = await client.callTool({ name, arguments: args });
  const required = unpaid.structuredContent;
  if (!unpaid.isError || required?.x402Version !== 2) throw new Error(`${name} unpaid did not ask for a payment: ${JSON.stringify(unpaid)}`);
  const payment = await who.sign(required);
  const paid = await client.callTool({ name, arguments: args, _meta: { "x402/payment": payment } });
  return { unpaid: summary(unpaid), paid: summary(paid) };
}

async function rest(fetchFn, url, headers = {}) {
  const response = await fetchFn(url, { headers });
  return { status: response.status, body: await response.text() };
}

await run(async () => {
  const gate = gateUrl();
  const first = payer("PRIVATE_KEY");
  const second = payer("PRIVATE_KEY_2");
  const key = contentKey("mcp");
  const value = `written over MCP ${new Date().toISOString()}`;

  // Discovery and x402 in _meta.
  const a = await connect(gate);
  const { tools } = await a.listTools();
  const put = await paidCall(a, first, "put-content", { key, value });
  const get = await paidCall(a, first, "get-content", { key });
  await a.close();

  // A second payer: its listing does not show the key and reading it is a tool error (not charged).
  const b = await connect(gate);
  const otherList = await paidCall(b, second, "list-content", { prefix: "mcp-" });
  const otherGet = await paidCall(b, second, "get-content", { key });
  await b.close();

  // REST reads of the MCP-written key: the same payer pays and reads it; the other payer pays nothing and gets 404.
  const url = `${gate}/api/content/${encodeURIComponent(key)}`;
  const restSame = await rest(first.fetch, url);
  const restOther = await rest(second.fetch, url);

  // A session paid once (deposit), then 10 calls with only the Payment-Session header: no signature.
  const opened = await first.fetch(`${gate}/api/sessions`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ deposit: "100000" }),
  });
  const token = opened.headers.get("Payment-Session");
  if (opened.status !== 201 || !token) throw new Error(`open answered ${opened.status}: ${await opened.text()}`);
  const session = await opened.json();
  const signaturesBefore = first.counted.signatures;
  const s = await connect(gate, { "Payment-Session": token });
  const sessionKey = `${key}-session`;
  const sessionCalls = [];
  for (let i = 0; i < 10; i++) {
    const call = i % 2 === 0
      ? { name: "put-content", arguments: { key: sessionKey, value: `session value ${i}` } }
      : { name: "get-content", arguments: { key: sessionKey } };
    sessionCalls.push({ name: call.name, ...summary(await s.callTool(call)) });
  }
  // session-status reports SessionApi's ledger, which the gate's debits reach through the fold (batches every ~50 ms):
  // read until two reads 250 ms apart agree, so the assertion sees every debit of the calls above.
  let status = summary(await s.callTool({ name: "session-status", arguments: {} }));
  for (let attempt = 0; attempt < 40; attempt++) {
    await new Promise(resolve => setTimeout(resolve, 250));
    const again = summary(await s.callTool({ name: "session-status", arguments: {} }));
    const balance = again.structuredContent?.session?.balance;
    const same = balance === status.structuredContent?.session?.balance;
    status = again;
    if (same && balance !== "100000") break;   // settled, and the calls above did reach it
  }
  await s.close();
  const signaturesDuringSession = first.counted.signatures - signaturesBefore;
  const restSession = await rest(fetch, `${gate}/api/content/${encodeURIComponent(sessionKey)}`, { "Payment-Session": token });
  const restSessionOther = await rest(second.fetch, `${gate}/api/content/${encodeURIComponent(sessionKey)}`);

  return {
    payer: first.address, otherPayer: second.address, key, value,
    tools: tools.map(t => ({ name: t.name, inputSchema: t.inputSchema, price: t._meta?.["x402/price"] ?? null })),
    put, get, otherList, otherGet, restSame, restOther,
    session: { id: session.id, deposit: "100000", calls: sessionCalls, status, signaturesDuringSession, restSession, restSessionOther },
  };
});
