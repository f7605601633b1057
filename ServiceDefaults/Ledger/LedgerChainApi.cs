using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sessions.Payments.Ledger;

namespace Sessions.ServiceDefaults.Ledger;

/// <summary>
/// The published checkpoints of a ledger, split by whether their signature verifies with the gate's published keys. The
/// gate registers one (it holds the keys and the checkpoints); a service without it verifies the chain alone.
/// </summary>
public interface ILedgerCheckpointSource
{
    Task<LedgerCheckpointSet> CheckpointsAsync(string ledger, CancellationToken cancellationToken);
}

public sealed record LedgerCheckpointSet(IReadOnlyList<LedgerCheckpoint> Verified, IReadOnlyList<(long Position, string Detail)> Unverified);

/// <summary><c>GET {admin}/ledger/verify</c> and <c>GET {admin}/ledger/export</c> on a service's admin group.</summary>
public static class LedgerChainApi
{
    public const string JsonLines = "application/jsonl";

    /// <summary>The chain of this service's database (<paramref name="options"/>), chained in the background by <see cref="LedgerChainWorker"/>.</summary>
    public static TBuilder AddLedgerChain<TBuilder>(this TBuilder builder, LedgerChainOptions options) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<LedgerChainer>();
        builder.Services.AddSingleton<LedgerChainReader>();
        builder.Services.AddHostedService<LedgerChainWorker>();
        return builder;
    }

    /// <param name="admin">The service's admin group (its admin-key filter applies).</param>
    public static RouteGroupBuilder MapLedgerChainApi(this RouteGroupBuilder admin)
    {
        admin.MapGet("/ledger/verify", VerifyAsync);
        admin.MapGet("/ledger/export", (LedgerChainReader reader, CancellationToken cancellationToken) => TypedResults.Stream(async body =>
        {
            var newline = "\n"u8.ToArray();
            await foreach (var record in reader.ReadAsync(cancellationToken))
            {
                await JsonSerializer.SerializeAsync(body, LedgerExportLine.From(record), JsonSerializerOptions.Web, cancellationToken);
                await body.WriteAsync(newline, cancellationToken);
            }
        }, JsonLines));
        return admin;
    }

    /// <summary>Walks the chain and the checkpoints the service knows; 200 with the report, <c>valid</c> false when anything was tampered with.</summary>
    public static async Task<Ok<LedgerChainReport>> VerifyAsync(LedgerChainReader reader, IServiceProvider services, CancellationToken cancellationToken)
    {
        var checkpoints = services.GetService<ILedgerCheckpointSource>() is { } source
            ? await source.CheckpointsAsync(reader.Ledger, cancellationToken)
            : new LedgerCheckpointSet([], []);
        var walker = new LedgerChainWalker(checkpoints.Verified);
        foreach (var (position, detail) in checkpoints.Unverified)
            walker.CheckpointSignatureFailed(position, detail);
        return TypedResults.Ok(await reader.VerifyAsync(walker, cancellationToken));
    }
}
