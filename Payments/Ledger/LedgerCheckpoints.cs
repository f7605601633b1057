using System.Text.Json;
using Sessions.Payments.Receipts;

namespace Sessions.Payments.Ledger;

/// <summary>A published checkpoint (<c>GET /.well-known/ledger-checkpoints</c>): the JWS is the statement, the rest indexes it.</summary>
public sealed record PublishedCheckpoint(string Ledger, long Position, string Head, DateTimeOffset At, string Jws);

public sealed record PublishedCheckpoints(IReadOnlyList<PublishedCheckpoint> Checkpoints);

/// <summary>
/// Checkpoint JWS (docs/ledger-chain.md, "Checkpoints"): compact JWS, EdDSA, <c>typ</c> <see cref="JwsType"/>, payload
/// <c>{"ledger":…,"position":…,"head":…,"at":…}</c>, signed by the gate's current key.
/// </summary>
public static class LedgerCheckpoints
{
    public const string JwsType = "ledger-checkpoint+jws";

    public static byte[] Payload(LedgerCheckpoint checkpoint) => JsonSerializer.SerializeToUtf8Bytes(checkpoint, JsonSerializerOptions.Web);

    /// <summary>
    /// Splits checkpoints into those whose JWS verifies with <paramref name="keys"/> (the statement is then the signed payload,
    /// not the published columns) and those that do not, with why.
    /// </summary>
    public static (List<LedgerCheckpoint> Verified, List<(long Position, string Detail)> Unverified) Verify(
        IEnumerable<PublishedCheckpoint> published, string ledger, JwkSet keys)
    {
        var verified = new List<LedgerCheckpoint>();
        var unverified = new List<(long, string)>();
        foreach (var checkpoint in published.Where(c => c.Ledger == ledger))
        {
            var check = Jws.Verify(checkpoint.Jws, keys, out var header, out var payload);
            LedgerCheckpoint? signed = null;
            if (check == JwsCheck.Valid && header!.Typ == JwsType)
            {
                try
                {
                    signed = JsonSerializer.Deserialize<LedgerCheckpoint>(payload, JsonSerializerOptions.Web);
                }
                catch (JsonException)
                {
                }
            }
            if (check != JwsCheck.Valid)
                unverified.Add((checkpoint.Position, $"the checkpoint's signature does not verify with the published keys ({check})"));
            else if (signed is null || signed.Ledger != ledger)
                unverified.Add((checkpoint.Position, "the JWS is not a checkpoint of this ledger"));
            else
                verified.Add(signed);
        }
        return (verified, unverified);
    }
}
