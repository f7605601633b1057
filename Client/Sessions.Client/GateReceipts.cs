using Sessions.Payments.Receipts;

namespace Sessions.Client;

/// <summary>
/// The gate's signed receipts (docs/receipts.md): every paid or session-debited answer carries one in <c>Sessions-Receipt</c>
/// (an MCP result in <c>_meta["sessions/receipt"]</c>), a compact JWS verifiable with the gate's <c>/.well-known/jwks.json</c>.
/// </summary>
public static class GateReceipts
{
    public const string Header = "Sessions-Receipt";
    public const string JwksPath = ".well-known/jwks.json";

    /// <summary>The answer's receipt JWS, or null when it carries none (free, refused or not charged).</summary>
    public static string? GetReceipt(this HttpResponseMessage response) =>
        response.Headers.TryGetValues(Header, out var values) ? values.FirstOrDefault() : null;

    /// <summary>The gate's published keys (<paramref name="gate"/>: a client whose base address is the gate, or the JWKS URL).</summary>
    public static async Task<JwkSet> FetchJwksAsync(HttpClient gate, Uri? jwksUrl = null, CancellationToken cancellationToken = default)
    {
        using var response = await gate.GetAsync(jwksUrl ?? new Uri(JwksPath, UriKind.Relative), cancellationToken);
        response.EnsureSuccessStatusCode();
        return JwkSet.TryParse(await response.Content.ReadAsStringAsync(cancellationToken))
            ?? throw new InvalidDataException("The gate's JWK set is not valid JSON.");
    }

    /// <summary>Verifies the answer's receipt against <paramref name="keys"/>, and that it covers the body received.</summary>
    public static async Task<ReceiptCheck> VerifyReceiptAsync(this HttpResponseMessage response, JwkSet keys, CancellationToken cancellationToken = default)
    {
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return new ReceiptVerifier(keys).Verify(response.GetReceipt(), body, checkResponseBody: true);
    }
}
