namespace Sessions.Payments.Receipts;

/// <summary>
/// Checks a receipt without asking its gate: the JWS against the gate's published JWK set (<c>/.well-known/jwks.json</c>),
/// and optionally the response body against <see cref="Receipt.ResponseSha256"/>.
/// </summary>
public sealed class ReceiptVerifier(JwkSet keys)
{
    public ReceiptCheck Verify(string? jws, ReadOnlySpan<byte> responseBody = default, bool checkResponseBody = false)
    {
        var check = Jws.Verify(jws, keys, out var header, out var payload);
        if (check != JwsCheck.Valid)
            return new ReceiptCheck(check.ToString(), null);
        if (header!.Typ != Receipt.JwsType || Receipt.TryParse(payload) is not { } receipt)
            return new ReceiptCheck("NotAReceipt", null);
        if (checkResponseBody && ReceiptHashes.Body(responseBody) != receipt.ResponseSha256)
            return new ReceiptCheck("ResponseHashMismatch", receipt);
        return new ReceiptCheck(null, receipt);
    }
}

/// <summary>A verification's outcome: <see cref="Error"/> null when valid (<c>Malformed</c>, <c>UnsupportedAlgorithm</c>,
/// <c>UnknownKey</c>, <c>BadSignature</c>, <c>NotAReceipt</c>, <c>ResponseHashMismatch</c>).</summary>
public sealed record ReceiptCheck(string? Error, Receipt? Receipt)
{
    public bool IsValid => Error is null;
}
