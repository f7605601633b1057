// Signing helper for the mandate curl examples (PaymentGate/README.md, "Mandates through the gate"); not an interop test.
//   node tests/Interop/mandate-sign.mjs <private key> address                   -> the key's address
//   node tests/Interop/mandate-sign.mjs <private key> <Type> '<message JSON>'   -> 0x… EIP-712 signature
// Type: Mandate | Revoke | ApprovalDecision | ReadMandates, domain {name: "Sessions Mandate", version: "1", chainId: 84532}
// (SessionApi/README.md, "Typed data"). uint256 members may be JSON numbers or decimal strings.
import { privateKeyToAccount } from "viem/accounts";

const domain = { name: "Sessions Mandate", version: "1", chainId: 84532 };
const types = {
  Mandate: [
    { name: "user", type: "address" }, { name: "agent", type: "address" },
    { name: "maxPerTransaction", type: "uint256" }, { name: "maxPerDay", type: "uint256" },
    { name: "maxPerWeek", type: "uint256" }, { name: "maxPerMonth", type: "uint256" },
    { name: "requireApprovalAbove", type: "uint256" }, { name: "allowedMerchants", type: "string[]" },
    { name: "expiresAt", type: "uint256" }, { name: "nonce", type: "bytes32" },
  ],
  Revoke: [{ name: "mandateId", type: "string" }, { name: "timestamp", type: "uint256" }],
  ApprovalDecision: [{ name: "approvalId", type: "string" }, { name: "decision", type: "string" }, { name: "timestamp", type: "uint256" }],
  ReadMandates: [{ name: "user", type: "address" }, { name: "timestamp", type: "uint256" }],
};

const [key, primaryType, json] = process.argv.slice(2);
const account = privateKeyToAccount(key);
if (primaryType === "address") {
  console.log(account.address);
} else {
  if (!types[primaryType]) throw new Error(`type must be one of ${Object.keys(types).join(", ")} or "address"`);
  const message = JSON.parse(json);
  for (const field of types[primaryType])
    if (field.type === "uint256") message[field.name] = BigInt(message[field.name] ?? 0);
  console.log(await account.signTypedData({ domain, types: { [primaryType]: types[primaryType] }, primaryType, message }));
}
