using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Sessions.Payments;
using Sessions.Payments.Svm;
using Sessions.Payments.X402;

namespace Sessions.Client;

/// <summary>
/// An x402 v2 "exact" offer on a Solana network this client can pay: a known SPL token (its decimals and token program come
/// from <see cref="KnownSvmAssets"/>), the owner paid, and the facilitator's fee payer from <c>extra.feePayer</c>.
/// </summary>
internal sealed record SvmOffer(PaymentRequirements V2, ResourceInfo Resource, SvmAssetInfo Asset, AtomicAmount Amount, SolanaAddress PayTo,
    SolanaAddress FeePayer, string? Memo)
{
    public static SvmOffer? From(PaymentRequirements requirements, ResourceInfo resource)
    {
        if (requirements.Scheme != ExactSvmVerifier.Scheme || !SvmNetworks.IsSvm(requirements.Network)
            || !SolanaAddress.TryParse(requirements.Asset, out var mint) || !KnownSvmAssets.TryFind(requirements.Network, mint, out var asset)
            || !SolanaAddress.TryParse(requirements.PayTo, out var payTo)
            || !AtomicAmount.TryParse(requirements.Amount, out var amount) || amount.Value > ulong.MaxValue
            || requirements.Extra is not { ValueKind: JsonValueKind.Object } extra
            || !extra.TryGetProperty("feePayer", out var feePayerText) || !SolanaAddress.TryParse(feePayerText.GetString(), out var feePayer))
            return null;
        var memo = extra.TryGetProperty("memo", out var memoText) && memoText.ValueKind == JsonValueKind.String ? memoText.GetString() : null;
        return new SvmOffer(requirements, resource, asset, amount, payTo, feePayer, memo);
    }

    /// <summary>The x402 v2 SVM offers of a 402, in the server's order.</summary>
    public static IReadOnlyList<SvmOffer> Read(HttpResponseMessage response) =>
        response.Headers.TryGetValues(X402HeaderCodec.PaymentRequiredHeader, out var values)
        && X402HeaderCodec.Decode(values.FirstOrDefault(), X402JsonContext.Strict.PaymentRequired) is { Succeeded: true, Value: { } required }
            ? required.Accepts.Select(r => From(r, required.Resource)).OfType<SvmOffer>().ToList()
            : [];
}

/// <summary>
/// Builds and partially signs the transaction @x402/svm's exact client makes: a v0 message paid by the facilitator's fee payer
/// (first account), compute-unit limit 20 000, price 1 microlamport, one TransferChecked from the payer's associated token
/// account to the payee's, and a memo (<c>extra.memo</c>, else 16 random bytes in hex so equal payments differ).
/// </summary>
internal static class SolanaPaymentSigning
{
    const uint ComputeUnitLimit = 20_000;
    const ulong ComputeUnitPriceMicroLamports = 1;
    const byte TransferCheckedInstruction = 12;

    public static async Task<(string Name, string Value)> SignAsync(SvmOffer offer, ISolanaPaymentSigner signer, byte[] recentBlockhash,
        CancellationToken cancellationToken)
    {
        var mint = offer.Asset.Mint;
        var program = offer.Asset.TokenProgram;
        SolanaInstruction[] instructions =
        [
            new(SolanaPrograms.ComputeBudget, [], [2, .. LittleEndian(ComputeUnitLimit)]),
            new(SolanaPrograms.ComputeBudget, [], [3, .. LittleEndian(ComputeUnitPriceMicroLamports)]),
            new(program,
            [
                new(SolanaAddress.AssociatedTokenAccount(signer.Address, mint, program), false, true),
                new(mint, false, false),
                new(SolanaAddress.AssociatedTokenAccount(offer.PayTo, mint, program), false, true),
                new(signer.Address, true, false),
            ], [TransferCheckedInstruction, .. LittleEndian((ulong)offer.Amount.Value), offer.Asset.Decimals]),
            new(SolanaPrograms.Memo, [], Encoding.UTF8.GetBytes(offer.Memo ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)))),
        ];
        var message = SolanaInstruction.Compile(offer.FeePayer, instructions, recentBlockhash);
        var messageBytes = message.Serialize();
        var payerSignature = await signer.SignMessageAsync(messageBytes, cancellationToken);
        // The fee payer's slot stays zero: the facilitator co-signs at settlement.
        var signatures = message.StaticAccounts.Take(message.RequiredSignatures)
            .Select(address => address == signer.Address ? payerSignature : new byte[SolanaTransaction.SignatureLength]).ToArray();
        var transaction = Convert.ToBase64String(SolanaTransaction.Serialize(signatures, messageBytes));
        return (X402HeaderCodec.PaymentSignatureHeader, X402HeaderCodec.Encode(new PaymentPayload
        {
            Resource = offer.Resource, Accepted = offer.V2,
            Payload = JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["transaction"] = transaction }, X402JsonContext.Strict.DictionaryStringString),
        }));
    }

    /// <summary>
    /// <c>getLatestBlockhash</c> from the Solana JSON-RPC at <paramref name="rpcUrl"/>, sent through <paramref name="send"/>
    /// (the handler's inner pipeline, so a test server or a custom primary handler serves it too).
    /// </summary>
    public static async Task<byte[]> LatestBlockhashAsync(Uri rpcUrl, Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> send,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, rpcUrl)
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"getLatestBlockhash","params":[{"commitment":"confirmed"}]}""",
                Encoding.UTF8, "application/json"),
        };
        using var response = await send(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        if (document.RootElement.TryGetProperty("result", out var result) && result.TryGetProperty("value", out var value)
            && value.TryGetProperty("blockhash", out var blockhash) && SolanaBase58.TryDecode(blockhash.GetString(), 32, out var bytes))
            return bytes;
        throw new HttpRequestException($"The Solana RPC {rpcUrl} answered getLatestBlockhash without a blockhash.");
    }

    static byte[] LittleEndian(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    static byte[] LittleEndian(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }
}
