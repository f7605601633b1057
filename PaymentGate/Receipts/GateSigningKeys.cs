using Microsoft.Extensions.Options;
using Sessions.Payments.Receipts;

namespace Sessions.PaymentGate.Receipts;

/// <summary>Configuration section <c>Gate:Receipts</c>.</summary>
public sealed class ReceiptOptions
{
    /// <summary>
    /// False: charged answers carry no <c>Sessions-Receipt</c> (nor MCP <c>_meta</c> receipt) and none is stored; the request is
    /// not hashed either. The keys stay published: offers and ledger checkpoints are signed with them.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Secrets the Ed25519 signing keys derive from (seed = SHA-256 of each); the first signs, the others are previous keys,
    /// still published so that old receipts keep verifying (rotation: put a new secret first). The AppHost generates one
    /// (<c>receipt-signing-key</c>). Empty: a random key per start, logged as a warning (receipts stop verifying on restart).
    /// </summary>
    public List<string> SigningKeys { get; set; } = [];
}

/// <summary>
/// The gate's signing keys (issue 19): the current one signs receipts and ledger checkpoints, all are published at
/// <c>GET /.well-known/jwks.json</c> with their RFC 7638 thumbprint as <c>kid</c>.
/// </summary>
public sealed class GateSigningKeys
{
    readonly Ed25519Key current;

    public GateSigningKeys(IOptions<ReceiptOptions> options, ILogger<GateSigningKeys> logger)
    {
        var keys = options.Value.SigningKeys.Where(s => !string.IsNullOrWhiteSpace(s)).Select(Ed25519Key.FromSecret).ToList();
        if (keys.Count == 0)
        {
            keys.Add(Ed25519Key.Generate());
            logger.LogWarning("Gate:Receipts:SigningKeys is empty: receipts are signed with a random key that changes on every start.");
        }
        current = keys[0];
        Published = new JwkSet { Keys = keys.Select(k => k.Jwk).DistinctBy(k => k.Kid).ToList() };
    }

    /// <summary>The public keys, current first.</summary>
    public JwkSet Published { get; }

    public string CurrentKid => current.Kid;

    /// <summary>Signs a payload as a compact JWS (EdDSA, <c>kid</c> of the current key, <paramref name="type"/> as <c>typ</c>).</summary>
    public string SignJws(string type, ReadOnlySpan<byte> payload) => Jws.Sign(current, type, payload);

    /// <summary>Signs a receipt: <c>Sessions-Receipt</c> header value.</summary>
    public string Sign(Receipt receipt) => SignJws(Receipt.JwsType, receipt.ToJsonBytes());
}

/// <summary><c>GET /.well-known/jwks.json</c>: the keys that verify the gate's receipts and checkpoints.</summary>
public static class JwksApi
{
    public const string Path = "/.well-known/jwks.json";

    public static IEndpointRouteBuilder MapJwks(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, (GateSigningKeys keys) =>
                TypedResults.Text(keys.Published.ToJson(), "application/jwk-set+json"))
            .WithName("GetJwks")
            .WithSummary("The gate's public Ed25519 keys (JWK set) that verify Sessions-Receipt JWS and ledger checkpoints")
            .Produces(StatusCodes.Status200OK, contentType: "application/jwk-set+json");
        return app;
    }
}
