// x402 exact on Solana with the official client: @x402/fetch + @x402/svm (ExactSvmScheme, given the gate's simulated
// Solana JSON-RPC as rpcUrl) + a @solana/kit key pair signer.
//  1. PUT then GET /api/content/<key>, both paid on solana devnet through the gate and its local facilitator.
//  2. A prepaid session opened, spent, topped up and closed, deposit and top-up paid on Solana by @x402/fetch.
//  3. Refusals, each built from what the official client signs: a payment made for a smaller amount or another payTo
//     but presented as the offered requirement (checked fields), the offered payment with its signature replaced by
//     another key's, the offered payment re-signed with a System transfer appended (an extra instruction), and the
//     header that paid the GET sent again (replay).
// Env: GATE_URL, SVM_SECRET (hex, 32-byte ed25519 seed), SOLANA_RPC_URL (default GATE_URL/dev/solana-rpc),
// CONTENT_KEY (optional). Prints one JSON line.
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { ExactSvmScheme } from "@x402/svm/exact/client";
import {
  createKeyPairSignerFromPrivateKeyBytes, generateKeyPairSigner, getBase64Encoder, getBase64Decoder,
  getCompiledTransactionMessageDecoder, getCompiledTransactionMessageEncoder, signBytes,
} from "@solana/kit";
import { contentKey, decodeBase64Json, describe, gateUrl, recordingFetch, requireEnv, run } from "./lib.mjs";

const SYSTEM_PROGRAM = "11111111111111111111111111111111";

/** The wire transaction split as the client sends it: [count=2][fee payer slot][payer signature][message]. */
function split(base64) {
  const bytes = new Uint8Array(getBase64Encoder().encode(base64));
  if (bytes[0] !== 2) throw new Error(`expected 2 signature slots, got ${bytes[0]}`);
  return { feePayerSlot: bytes.slice(1, 65), message: bytes.slice(129) };
}

const join = (feePayerSlot, signature, message) =>
  getBase64Decoder().decode(new Uint8Array([2, ...feePayerSlot, ...signature, ...message]));

/** The same payment header with another transaction in it. */
function withTransaction(header, transaction) {
  const payload = decodeBase64Json(header);
  payload.payload.transaction = transaction;
  return Buffer.from(JSON.stringify(payload), "utf8").toString("base64");
}

await run(async () => {
  const gate = gateUrl();
  const seed = Buffer.from(requireEnv("SVM_SECRET"), "hex");
  if (seed.length !== 32) throw new Error("SVM_SECRET must be 64 hex digits");
  const signer = await createKeyPairSignerFromPrivateKeyBytes(new Uint8Array(seed));
  const rpcUrl = process.env.SOLANA_RPC_URL || `${gate}/dev/solana-rpc`;
  const scheme = new ExactSvmScheme(signer, { rpcUrl });
  const client = new x402Client().register("solana:*", scheme);
  const recorder = recordingFetch();
  const pay = wrapFetchWithPayment(recorder.fetch, client);

  const key = contentKey("svm");
  const value = `interop svm ${key} ${new Date().toISOString()}`;
  const url = `${gate}/api/content/${encodeURIComponent(key)}`;
  const put = await describe(await pay(url, { method: "PUT", headers: { "Content-Type": "text/plain" }, body: value }));

  // The GET's payment header, captured as sent (it pays once; the replay below sends it again).
  let paidHeader = null;
  const capture = wrapFetchWithPayment(async (input, init) => {
    const request = new Request(input, init);
    paidHeader ??= request.headers.get("PAYMENT-SIGNATURE");
    return fetch(request);
  }, client);
  const get = await describe(await capture(url, { method: "GET" }));

  // The offer of the GET, and payments the official client signs for bent copies of it.
  const offer = decodeBase64Json((await fetch(url)).headers.get("PAYMENT-REQUIRED"));
  const accepted = offer.accepts.find(a => a.network.startsWith("solana:"));
  const headerFor = async requirements => {
    const { payload } = await scheme.createPaymentPayload(2, requirements);
    return Buffer.from(JSON.stringify({ x402Version: 2, resource: offer.resource, accepted, payload }), "utf8").toString("base64");
  };
  const stranger = await generateKeyPairSigner();
  const honest = await headerFor(accepted);
  const { feePayerSlot, message } = split(decodeBase64Json(honest).payload.transaction);

  const underpaid = await headerFor({ ...accepted, amount: String(BigInt(accepted.amount) - 1n) });
  const redirected = await headerFor({ ...accepted, payTo: stranger.address });
  const foreignSignature = withTransaction(honest, join(feePayerSlot, await signBytes(stranger.keyPair.privateKey, message), message));

  // An extra instruction: a System transfer of the payer's SOL, appended to the signed message and signed again by the payer.
  const compiled = getCompiledTransactionMessageDecoder().decode(message);
  const staticAccounts = [...compiled.staticAccounts, SYSTEM_PROGRAM];
  const payerIndex = compiled.staticAccounts.indexOf(signer.address);
  const transferData = new Uint8Array(12);
  transferData[0] = 2;
  new DataView(transferData.buffer).setBigUint64(4, 1_000_000n, true);
  const extended = {
    ...compiled,
    header: { ...compiled.header, numReadonlyNonSignerAccounts: compiled.header.numReadonlyNonSignerAccounts + 1 },
    staticAccounts,
    instructions: [...compiled.instructions, { programAddressIndex: staticAccounts.length - 1, accountIndices: [payerIndex, payerIndex], data: transferData }],
  };
  const extendedMessage = new Uint8Array(getCompiledTransactionMessageEncoder().encode(extended));
  const extraInstruction = withTransaction(honest, join(feePayerSlot, await signBytes(signer.keyPair.privateKey, extendedMessage), extendedMessage));

  // A prepaid session paid on Solana: @x402/fetch pays the deposit (the SVM requirement is the one this client can pay),
  // two GETs on the token, a paid top-up, then close: the remainder goes back on Solana.
  const paySession = wrapFetchWithPayment(fetch, client);
  const json = body => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const openResponse = await paySession(`${gate}/api/sessions`, json({ deposit: "10000" }));
  const token = openResponse.headers.get("Payment-Session");
  const opened = await describe(openResponse);
  if (opened.status !== 201 || !token) throw new Error(`open answered ${opened.status}: ${opened.body}`);
  const sessionId = JSON.parse(opened.body).id;
  const spent = [];
  for (let i = 0; i < 2; i++) spent.push((await fetch(url, { headers: { "Payment-Session": token } })).status);
  const topUp = await describe(await paySession(`${gate}/api/sessions/${sessionId}/topup`, json({ amount: "5000" })));
  const closed = await describe(await fetch(`${gate}/api/sessions/${sessionId}/close`, { method: "POST", headers: { "Payment-Session": token } }));
  const session = { opened: { status: opened.status, body: JSON.parse(opened.body), settlement: opened.paymentResponse }, spent,
    topUp: { status: topUp.status, settlement: topUp.paymentResponse }, closed: { status: closed.status, body: JSON.parse(closed.body) } };

  const send = async header => {
    const d = await describe(await fetch(url, { headers: { "PAYMENT-SIGNATURE": header } }));
    return { status: d.status, error: d.paymentRequired?.error ?? null, settled: d.paymentResponse?.success ?? null };
  };
  const refused = {
    underpaid: await send(underpaid),
    redirected: await send(redirected),
    foreignSignature: await send(foreignSignature),
    extraInstruction: await send(extraInstruction),
    replayed: await send(paidHeader),
  };
  return { client: "@x402/fetch + @x402/svm", payer: signer.address, key, value, put, get, refused, session, exchanges: recorder.exchanges };
});
