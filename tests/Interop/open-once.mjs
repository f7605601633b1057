// One session-open payment, many copies at once (issue 13): the official client (@x402/fetch + @x402/evm) signs the payment
// for POST /api/sessions, the header is held back, then sent CONCURRENCY times at once; ROUNDS rounds, a new payment each.
// Expected per round: every answer 201 with one session id and one token (header and body), or 409 payment-in-progress;
// the token works. Env: GATE_URL, PRIVATE_KEY, DEPOSIT, ROUNDS (default 50), CONCURRENCY (default 20). Prints one JSON line.
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { privateKeyToAccount } from "viem/accounts";
import { gateUrl, privateKey, requireEnv, run } from "./lib.mjs";

await run(async () => {
  const url = `${gateUrl()}/api/sessions`;
  const [rounds, concurrency] = [Number(process.env.ROUNDS || 50), Number(process.env.CONCURRENCY || 20)];
  const client = new x402Client().register("eip155:*", new ExactEvmScheme(privateKeyToAccount(privateKey())));
  const open = { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ deposit: requireEnv("DEPOSIT") }) };
  const results = [];
  for (let round = 0; round < rounds; round++) {
    // The client pays the 402; its paid retry is held here, never sent: the header goes out below, all copies at once.
    let header = null;
    const holding = async (input, init) => {
      const request = new Request(input, init);
      header ??= request.headers.get("PAYMENT-SIGNATURE");
      return header ? new Response("held by the test", { status: 200 }) : fetch(request);
    };
    await (await wrapFetchWithPayment(holding, client)(url, open)).text();
    if (!header) throw new Error(`round ${round}: the client sent no payment header`);

    const answers = await Promise.all(Array.from({ length: concurrency }, async () => {
      const response = await fetch(url, { ...open, headers: { ...open.headers, "PAYMENT-SIGNATURE": header } });
      const body = await response.text();
      let json = {};
      try { json = JSON.parse(body); } catch { /* reported as the body */ }
      return { status: response.status, id: json.id ?? null, tokens: [response.headers.get("Payment-Session"), json.token ?? null], code: json.code ?? null, body };
    }));
    const created = answers.filter(a => a.status === 201);
    const ids = [...new Set(created.map(a => a.id))];
    const tokens = [...new Set(created.flatMap(a => a.tokens))];
    // Answers other than 201, counted by "status code" (e.g. "409 payment-in-progress": 18), and one body of any other kind.
    const others = {};
    for (const a of answers.filter(a => a.status !== 201)) others[`${a.status} ${a.code}`] = (others[`${a.status} ${a.code}`] ?? 0) + 1;
    const unexpected = answers.find(a => a.status !== 201 && a.code !== "payment-in-progress")?.body.slice(0, 300) ?? null;
    let check = null;
    if (ids.length === 1 && tokens.length === 1 && tokens[0]) {
      const get = await fetch(`${url}/${ids[0]}`, { headers: { "Payment-Session": tokens[0] } });
      check = { status: get.status, balance: (await get.json().catch(() => ({}))).balance ?? null };
    }
    results.push({ round, created: created.length, ids, tokens, distinctBodies: new Set(created.map(a => a.body)).size, others, unexpected, check });
  }
  return { rounds: results };
});
