// Generates the cross-check fixtures in this folder with viem 2.x and mppx 0.11.0 (npm), outside the repo:
//   mkdir /tmp/fx && cd /tmp/fx && npm install --legacy-peer-deps mppx@0.11.0 viem@2 && cp <this file> . && node generate-fixtures.mjs <this folder>
// Tests never run it: they read the committed JSON.
import { writeFileSync } from 'node:fs';
import { keccak256, stringToBytes, getAddress, hashTypedData, recoverTypedDataAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { Challenge, Credential } from 'mppx';
import { Json } from 'ox';

const out = process.argv[2];
const key = (label) => keccak256(stringToBytes(label));
const jsonify = (o) => JSON.parse(JSON.stringify(o, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));

// ---- EIP-712 typed data signed by viem ----
const transferTypes = {
  TransferWithAuthorization: [
    { name: 'from', type: 'address' }, { name: 'to', type: 'address' }, { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' }, { name: 'validBefore', type: 'uint256' }, { name: 'nonce', type: 'bytes32' },
  ],
};
const usdcSepolia = { name: 'USDC', version: '2', chainId: 84532, verifyingContract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e' };
const usdcBase = { name: 'USD Coin', version: '2', chainId: 8453, verifyingContract: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913' };
const cases = [];
async function add(name, pk, domain, types, primaryType, message) {
  const account = privateKeyToAccount(pk);
  const digest = hashTypedData({ domain, types, primaryType, message });
  const signature = await account.signTypedData({ domain, types, primaryType, message });
  const recovered = await recoverTypedDataAddress({ domain, types, primaryType, message, signature });
  if (recovered !== account.address) throw new Error('recovery mismatch ' + name);
  cases.push(jsonify({ name, privateKey: pk, address: account.address, domain, types, primaryType, message, digest, signature }));
}
const maxU256 = (1n << 256n) - 1n;
for (let i = 0; i < 6; i++) {
  const pk = key(`sessions-fixture-${i}`);
  const from = privateKeyToAccount(pk).address;
  const domain = i % 2 === 0 ? usdcSepolia : usdcBase;
  const values = [1n, 10000n, 1000000n, maxU256, 0n, 123456789012345678901234567890n];
  await add(`transfer-${i}`, pk, domain, transferTypes, 'TransferWithAuthorization', {
    from, to: getAddress(keccak256(stringToBytes(`to-${i}`)).slice(0, 42)), value: values[i],
    validAfter: BigInt(i * 1000), validBefore: BigInt(1740672154 + i * 77), nonce: key(`nonce-${i}`),
  });
}
await add('voucher', key('voucher-key'), { name: 'Tempo Stream Channel', version: '1', chainId: 42431, verifyingContract: '0x1111111111111111111111111111111111111111' },
  { Voucher: [{ name: 'channelId', type: 'bytes32' }, { name: 'cumulativeAmount', type: 'uint128' }] }, 'Voucher',
  { channelId: key('channel-1'), cumulativeAmount: (1n << 128n) - 1n });
const richTypes = {
  Person: [{ name: 'name', type: 'string' }, { name: 'wallets', type: 'address[]' }],
  Attachment: [{ name: 'blob', type: 'bytes' }, { name: 'tag', type: 'bytes8' }, { name: 'flag', type: 'bool' }],
  Mail: [
    { name: 'from', type: 'Person' }, { name: 'to', type: 'Person[]' }, { name: 'contents', type: 'string' },
    { name: 'attachment', type: 'Attachment' }, { name: 'small', type: 'int8' }, { name: 'negative', type: 'int256' },
    { name: 'tiny', type: 'uint8' }, { name: 'pair', type: 'uint16[2]' }, { name: 'one', type: 'bytes1' },
  ],
};
await add('rich-mail', key('rich'), { name: 'Ether Mail ✉', version: '1', chainId: 1, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC', salt: key('salt') },
  richTypes, 'Mail', {
    from: { name: 'Cow 🐮', wallets: ['0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826', '0xDeaDbeefdEAdbeefdEadbEEFdeadbeEFdEaDbeeF'] },
    to: [{ name: 'Bob', wallets: [] }, { name: 'Alice "A"', wallets: ['0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB'] }],
    contents: 'Hello, Bob!\n', attachment: { blob: '0x0102030405060708090a0b0c0d0e0f10111213141516171819', tag: '0x0123456789abcdef', flag: true },
    small: -128, negative: -1n, tiny: 255, pair: [1, 65535], one: '0xff',
  });
await add('domain-name-only', key('d1'), { name: 'Only Name' }, transferTypes, 'TransferWithAuthorization', {
  from: privateKeyToAccount(key('d1')).address, to: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', value: 5n, validAfter: 0n, validBefore: 10n, nonce: key('n') });
await add('domain-chain-contract', key('d2'), { chainId: 10, verifyingContract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e' }, transferTypes, 'TransferWithAuthorization', {
  from: privateKeyToAccount(key('d2')).address, to: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', value: 5n, validAfter: 0n, validBefore: 10n, nonce: key('n') });
writeFileSync(`${out}/viem-typed-data.json`, JSON.stringify(cases, null, 1) + '\n');

// ---- EIP-55 ----
const addresses = [];
for (let i = 0; i < 24; i++) {
  const lower = keccak256(stringToBytes(`address-${i}`)).slice(0, 42).toLowerCase();
  addresses.push({ lower, checksum: getAddress(lower) });
}
writeFileSync(`${out}/viem-addresses.json`, JSON.stringify(addresses, null, 1) + '\n');

// ---- ECMAScript number formatting (JCS numbers), from IEEE-754 bit patterns ----
const bitPatterns = ['0000000000000000', '8000000000000000', '0000000000000001', '8000000000000001', '7fefffffffffffff', 'ffefffffffffffff',
  '4340000000000000', 'c340000000000000', '4430000000000000', '44b52d02c7e14af5', '44b52d02c7e14af6', '44b52d02c7e14af7',
  '444b1ae4d6e2ef4e', '444b1ae4d6e2ef4f', '444b1ae4d6e2ef50', '3eb0c6f7a0b5ed8c', '3eb0c6f7a0b5ed8d', '41b3de4355555553',
  '41b3de4355555554', '41b3de4355555555', '41b3de4355555556', '41b3de4355555557', 'becbf647612f3696', '43143ff3c1cb0959'];
const view = new DataView(new ArrayBuffer(8));
for (let i = 0; i < 200; i++) {
  const h = keccak256(stringToBytes(`double-${i}`)).slice(2, 18);
  view.setBigUint64(0, BigInt('0x' + h));
  if (Number.isFinite(view.getFloat64(0))) bitPatterns.push(h);
}
for (const v of [1, 10, 100, 1e20, 1e21, 1e-6, 1e-7, 0.1, 0.2, 0.3, 123.456, 5e-324, 2 ** 53, 2 ** 53 + 2, 1.5e300, 4.5, 0.002, 1e30, 1e-27]) {
  view.setFloat64(0, v); bitPatterns.push(view.getBigUint64(0).toString(16).padStart(16, '0'));
}
const numbers = bitPatterns.map((h) => { view.setBigUint64(0, BigInt('0x' + h)); return { bits: h, text: String(view.getFloat64(0)) }; });
writeFileSync(`${out}/js-numbers.json`, JSON.stringify(numbers, null, 1) + '\n');

// ---- JCS via ox (what mppx uses) ----
const jcsInputs = [
  '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
  '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
  '{"recipient":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","methodDetails":{"decimals":6,"credentialTypes":["authorization"],"chainId":84532},"currency":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","amount":"10000"}',
  '{"b":[{"z":1,"a":[]},{}],"a":{"\\u007f":"del","\\u001f":"us","é":"e-acute"},"c":-0.0,"d":1e21,"e":-1e-7}',
];
writeFileSync(`${out}/ox-jcs.json`, JSON.stringify(jcsInputs.map((input) => ({ input, canonical: Json.canonicalize(JSON.parse(input)) })), null, 1) + '\n');

// ---- mppx 0.11.0 challenges and credentials ----
const request = { amount: '10000', currency: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', methodDetails: { chainId: 84532, credentialTypes: ['authorization'], decimals: 6 }, recipient: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C' };
const variants = [
  {},
  { expires: '2026-01-01T00:00:00.000Z' },
  { digest: 'sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' },
  { expires: '2026-01-01T00:00:00.000Z', digest: 'sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', description: 'Weather "pro" \\ report', meta: { order: '42', tier: 'gold' } },
];
const challenges = [];
for (const [i, v] of variants.entries()) {
  const challenge = Challenge.from({ secretKey: 'test-secret-key', realm: 'api.example.com', method: 'evm', intent: 'charge', request, ...v });
  const credential = Credential.serialize(Credential.from({ challenge, payload: { type: 'authorization', value: '10000' }, source: 'did:pkh:eip155:84532:0x857b06519E91e3A54538791bDbb0E22373e36b66' }));
  challenges.push({ name: `variant-${i}`, secret: 'test-secret-key', challenge: jsonify(challenge), header: Challenge.serialize(challenge), credential,
    nonce: keccak256(stringToBytes(challenge.id + challenge.realm)) });
}
writeFileSync(`${out}/mppx-challenges.json`, JSON.stringify(challenges, null, 1) + '\n');
console.log('cases', cases.length, 'numbers', numbers.length, 'challenges', challenges.length);
