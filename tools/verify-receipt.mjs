#!/usr/bin/env node
// Verifies a Sessions gate receipt offline with Node's standard library only (docs/receipts.md).
//   node tools/verify-receipt.mjs RECEIPT JWKS [RESPONSE_BODY_FILE]
// RECEIPT: the compact JWS (the Sessions-Receipt header) or a file holding it; JWKS: a file with the gate's
// /.well-known/jwks.json, or its URL; RESPONSE_BODY_FILE: the answer's body, checked against responseSha256.
// Prints the receipt's payload as JSON and exits 0 when valid; prints why and exits 1 otherwise.
import { createHash, createPublicKey, verify } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";

const [receiptArg, jwksArg, bodyFile] = process.argv.slice(2);
if (!receiptArg || !jwksArg) {
  console.error("usage: node verify-receipt.mjs RECEIPT JWKS [RESPONSE_BODY_FILE]");
  process.exit(2);
}

const fail = (why) => {
  console.error(`invalid: ${why}`);
  process.exit(1);
};
const fromBase64Url = (part) => {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) fail("not base64url");
  return Buffer.from(part, "base64url");
};

const jws = (existsSync(receiptArg) ? readFileSync(receiptArg, "utf8") : receiptArg).trim();
const jwks = JSON.parse(/^https?:\/\//.test(jwksArg) ? await (await fetch(jwksArg)).text() : readFileSync(jwksArg, "utf8"));

const parts = jws.split(".");
if (parts.length !== 3) fail("a compact JWS has three parts");
const header = JSON.parse(fromBase64Url(parts[0]).toString("utf8"));
if (header.alg !== "EdDSA") fail(`alg ${header.alg} is not EdDSA`);
if (header.typ !== "sessions-receipt+jws") fail(`typ ${header.typ} is not a receipt`);
const jwk = (jwks.keys ?? []).find((k) => k.kid === header.kid);
if (!jwk) fail(`no key ${header.kid} in the JWK set`);
if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519") fail("the key is not Ed25519");
// The kid is the key's RFC 7638 thumbprint: a published key cannot be swapped under its id unnoticed.
const thumbprint = createHash("sha256").update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x })).digest("base64url");
if (thumbprint !== jwk.kid) fail("the key's kid is not its thumbprint");

const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk.x }, format: "jwk" });
const signed = Buffer.from(`${parts[0]}.${parts[1]}`, "ascii");
if (!verify(null, signed, key, fromBase64Url(parts[2]))) fail("bad signature");
const receipt = JSON.parse(fromBase64Url(parts[1]).toString("utf8"));

if (bodyFile) {
  const hash = createHash("sha256").update(readFileSync(bodyFile)).digest("hex");
  if (hash !== receipt.responseSha256) fail(`response body hash ${hash} is not the receipt's ${receipt.responseSha256}`);
}
console.log(JSON.stringify(receipt, null, 2));
