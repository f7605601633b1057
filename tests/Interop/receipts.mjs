// Issue 19 acceptance: a request paid by the official client (@x402/fetch, x402 v2) and a session request (session opened
// by @x402/fetch, spent with its token) each return a Sessions-Receipt that tools/verify-receipt.mjs (Node's standard
// library only) accepts against the gate's /.well-known/jwks.json, with the answer's body; a changed body is refused.
// Env: GATE_URL, PRIVATE_KEY, RECEIPTS_DIR (where the receipts, bodies and JWKS are written for the .NET side).
// Prints one JSON line: {paid, session} with each {status, receipt, verified, tamperedExit}.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { privateKeyToAccount } from "viem/accounts";
import { contentKey, gateUrl, privateKey, requireEnv, run } from "./lib.mjs";

const verifier = fileURLToPath(new URL("../../tools/verify-receipt.mjs", import.meta.url));

await run(async () => {
  const gate = gateUrl();
  const dir = requireEnv("RECEIPTS_DIR");
  const account = privateKeyToAccount(privateKey());
  const pay = wrapFetchWithPayment(fetch, new x402Client().register("eip155:*", new ExactEvmScheme(account)));
  const jwksFile = join(dir, "jwks.json");
  writeFileSync(jwksFile, await (await fetch(`${gate}/.well-known/jwks.json`)).text());

  async function keep(name, response) {
    const body = Buffer.from(await response.arrayBuffer());
    const receipt = response.headers.get("Sessions-Receipt");
    if (!receipt) throw new Error(`${name}: ${response.status} without Sessions-Receipt: ${body.toString("utf8")}`);
    const [receiptFile, bodyFile] = [join(dir, `${name}.jws`), join(dir, `${name}.body`)];
    writeFileSync(receiptFile, receipt);
    writeFileSync(bodyFile, body);
    const verified = JSON.parse(execFileSync(process.execPath, [verifier, receiptFile, jwksFile, bodyFile], { encoding: "utf8" }));
    const tamperedFile = join(dir, `${name}.tampered`);
    writeFileSync(tamperedFile, Buffer.concat([body, Buffer.from(" ")]));
    let tamperedExit = 0;
    try {
      execFileSync(process.execPath, [verifier, receiptFile, jwksFile, tamperedFile], { stdio: "pipe" });
    } catch (error) {
      tamperedExit = error.status;
    }
    return { status: response.status, receipt, verified, tamperedExit };
  }

  const url = `${gate}/api/content/${encodeURIComponent(contentKey("receipts"))}`;
  const paid = await keep("paid", await pay(url, { method: "PUT", headers: { "Content-Type": "text/plain" }, body: "signed receipts" }));

  const opened = await pay(`${gate}/api/sessions`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ deposit: "100000" }),
  });
  const token = opened.headers.get("Payment-Session");
  if (opened.status !== 201 || !token) throw new Error(`open answered ${opened.status}: ${await opened.text()}`);
  const session = await keep("session", await fetch(url, { headers: { "Payment-Session": token } }));
  return { payer: account.address, sessionId: (await opened.json()).id, token, paid, session };
});
