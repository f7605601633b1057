// MCP over MPP with the official clients: mppx 0.11 pays priced tools through the gate in both of its MCP client flows,
// over the official @modelcontextprotocol/sdk Streamable HTTP transport:
//  A. McpClient.wrap(client, {methods}) on a plain transport (no Accept-Payment): the gate's payment-required tool result
//     carries the challenge in _meta["org.paymentauth/payment-required"]; mppx pays put-content with the credential in
//     _meta["org.paymentauth/credential"] and gets the receipt in _meta["org.paymentauth/receipt"].
//  B. The transport's fetch = Mppx.create(...).fetch (Accept-Payment on every request): the unpaid get-content is the
//     JSON-RPC error -32042 in a 200 body; mppx's fetch pays it and the result carries the receipt.
// Then the credential that paid B is sent again by hand: -32043 (invalid-challenge).
// Env: GATE_URL, PRIVATE_KEY, CONTENT_KEY (optional). Prints one JSON line.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Mppx, evm } from "mppx/client";
import { McpClient } from "mppx/mcp/client";
import { privateKeyToAccount } from "viem/accounts";
import { contentKey, gateUrl, privateKey, run } from "./lib.mjs";

const credentialKey = "org.paymentauth/credential";
const receiptKey = "org.paymentauth/receipt";
const requiredKey = "org.paymentauth/payment-required";

/** The JSON-RPC response in an answer body, JSON or SSE (the data: event with an id). */
function rpcAnswer(contentType, text) {
  try {
    if (!contentType?.includes("text/event-stream")) return JSON.parse(text);
    return text.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => JSON.parse(l.slice(5))).find((m) => "id" in m) ?? null;
  } catch {
    return null;
  }
}

/** A fetch that records every MCP POST: what was sent (tool, credential, Accept-Payment) and what came back. */
function recorder() {
  const exchanges = [];
  const sent = [];
  const fetchFn = async (input, init) => {
    const request = new Request(input, init);
    const body = request.method === "POST" ? await request.clone().text() : null;
    const response = await fetch(request);
    if (body === null) return response;
    const message = JSON.parse(body);
    const answer = rpcAnswer(response.headers.get("content-type"), await response.clone().text());
    sent.push(message);
    exchanges.push({
      rpcMethod: message.method ?? null, tool: message.params?.name ?? null,
      credential: message.params?._meta?.[credentialKey] !== undefined, acceptPayment: request.headers.get("Accept-Payment"),
      status: response.status, errorCode: answer?.error?.code ?? null, isError: answer?.result?.isError === true,
      paymentRequiredMeta: answer?.result?._meta?.[requiredKey] !== undefined, receipt: answer?.result?._meta?.[receiptKey] ?? null,
    });
    return response;
  };
  return { fetch: fetchFn, exchanges, sent };
}

function summary(result) {
  return {
    isError: result.isError === true, text: result.content?.[0]?.text ?? null,
    receipt: result._meta?.[receiptKey] ?? null, mppxReceipt: result.receipt ?? null,
  };
}

await run(async () => {
  const gate = gateUrl();
  const url = new URL(`${gate}/mcp`);
  const account = privateKeyToAccount(privateKey());
  const methods = () => [evm.charge({ account, networks: [84532], authorization: { name: "USDC", version: "2" } })];
  const key = contentKey("mpp-mcp");
  const value = `written over MCP with MPP ${new Date().toISOString()}`;

  // A. mppx's McpClient on the SDK client, plain transport.
  const recordedA = recorder();
  const a = new Client({ name: "sessions-interop-mpp", version: "1.0.0" });
  await a.connect(new StreamableHTTPClientTransport(url, { fetch: recordedA.fetch }));
  McpClient.wrap(a, { methods: methods() });
  const put = summary(await a.callTool({ name: "put-content", arguments: { key, value } }));
  await a.close();

  // B. mppx's fetch under the SDK transport: Accept-Payment, -32042 in the body, paid by the fetch layer.
  const recordedB = recorder();
  const mppx = Mppx.create({ polyfill: false, fetch: recordedB.fetch, methods: methods() });
  const b = new Client({ name: "sessions-interop-mpp-fetch", version: "1.0.0" });
  await b.connect(new StreamableHTTPClientTransport(url, { fetch: mppx.fetch }));
  const get = summary(await b.callTool({ name: "get-content", arguments: { key } }));
  await b.close();

  // The credential that paid B, sent again as a raw JSON-RPC tools/call.
  const paidMessage = recordedB.sent.filter((m) => m.params?._meta?.[credentialKey] !== undefined).at(-1);
  const replayed = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
    body: JSON.stringify({ ...paidMessage, id: "replay-1" }),
  });
  const replayAnswer = rpcAnswer(replayed.headers.get("content-type"), await replayed.text());
  const replay = {
    status: replayed.status, code: replayAnswer?.error?.code ?? null, problem: replayAnswer?.error?.data?.problem ?? null,
    challenges: replayAnswer?.error?.data?.challenges?.length ?? 0,
  };

  const calls = (exchanges) => exchanges.filter((e) => e.rpcMethod === "tools/call");
  return { payer: account.address, key, value, put, get, replay, exchangesA: calls(recordedA.exchanges), exchangesB: calls(recordedB.exchanges) };
});
