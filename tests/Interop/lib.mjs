// Helpers shared by the interop scripts. Each script prints exactly ONE JSON line on stdout (its results, or
// {"ok":false,"error":...}) for tests/Interop.Tests to assert on; diagnostics go to stderr.
import { randomBytes } from "node:crypto";

/** A required environment variable, or a clear error. */
export function requireEnv(name) {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

export function gateUrl() {
  return requireEnv("GATE_URL").replace(/\/+$/, "");
}

/** A hex private key from PRIVATE_KEY (0x + 64 hex). */
export function privateKey(name = "PRIVATE_KEY") {
  const key = requireEnv(name);
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new Error(`${name} must be 0x followed by 64 hex digits`);
  return key;
}

/** Content key for this run: CONTENT_KEY or a fresh one, so runs never see each other's data. */
export function contentKey(prefix) {
  return process.env.CONTENT_KEY || `${prefix}-${randomBytes(6).toString("hex")}`;
}

/** Decodes a base64 JSON header the way the x402 clients do (standard base64, UTF-8 JSON); null when absent. */
export function decodeBase64Json(value) {
  if (!value) return null;
  try {
    return JSON.parse(Buffer.from(value, "base64").toString("utf8"));
  } catch (error) {
    return { undecodable: value, error: String(error) };
  }
}

/**
 * A fetch that records every exchange (method, url, status, which payment header was sent) so the .NET side
 * can check the protocol flow (402 first, then the paid retry), not only the final status.
 */
export function recordingFetch(inner = globalThis.fetch) {
  const exchanges = [];
  const fetchFn = async (input, init) => {
    const request = new Request(input, init);
    const sent = request.headers.has("PAYMENT-SIGNATURE") ? "PAYMENT-SIGNATURE"
      : request.headers.has("X-PAYMENT") ? "X-PAYMENT" : null;
    const response = await inner(request);
    exchanges.push({ method: request.method, url: request.url, status: response.status, paymentHeader: sent });
    return response;
  };
  return { fetch: fetchFn, exchanges };
}

/** Status, headers of interest and body text of a response. */
export async function describe(response) {
  const body = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body,
    paymentResponse: decodeBase64Json(response.headers.get("PAYMENT-RESPONSE")),
    xPaymentResponse: decodeBase64Json(response.headers.get("X-PAYMENT-RESPONSE")),
    paymentRequired: decodeBase64Json(response.headers.get("PAYMENT-REQUIRED")),
  };
}

/** Runs a script body: prints its result as one JSON line; on error prints {ok:false,error} and exits 1. */
export async function run(body) {
  const timeoutMs = Number(process.env.SCRIPT_TIMEOUT_MS || 120000);
  const timer = setTimeout(() => {
    process.stdout.write(JSON.stringify({ ok: false, error: `script timed out after ${timeoutMs} ms` }) + "\n");
    process.exit(2);
  }, timeoutMs);
  try {
    const result = await body();
    process.stdout.write(JSON.stringify({ ok: true, ...result }) + "\n");
    clearTimeout(timer);
  } catch (error) {
    clearTimeout(timer);
    const message = error instanceof Error ? `${error.message}${error.cause ? ` (cause: ${error.cause})` : ""}` : String(error);
    process.stdout.write(JSON.stringify({ ok: false, error: message, stack: error?.stack }) + "\n");
    process.exitCode = 1;
  }
}
