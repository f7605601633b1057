using System.CommandLine;
using System.Text.Json;
using Sessions.Payments.Ledger;
using Sessions.Payments.Receipts;

namespace Sessions.Cli;

/// <summary>
/// <c>audit export</c> and <c>audit verify</c>: the tamper-evident ledger (docs/ledger-chain.md). Verification walks the
/// chain offline (an export, downloaded or from a file) and checks it against the checkpoints the gate publishes, with
/// the gate's published keys only.
/// </summary>
public static class AuditCommands
{
    static readonly Option<string> LedgerOption = new("--ledger")
    {
        Description = "Which chain: sessions (SessionApi's database) or gate (the gate's)", DefaultValueFactory = _ => "sessions",
    };
    static readonly Option<string?> FromOption = new("--from")
    {
        Description = "Base URL of the service that holds the chain (SessionApi for sessions; default the gate for gate)",
    };
    static readonly Option<string?> AdminKeyOption = new("--admin-key") { Description = "That service's admin key (env SESSIONS_ADMIN_KEY)" };

    public static Command Create()
    {
        LedgerOption.AcceptOnlyFromAmong("sessions", "gate");
        var audit = new Command("audit", "Export and verify the tamper-evident ledger chains (admin)");

        var output = new Option<string?>("--out") { Description = "Write the JSON Lines here instead of stdout" };
        var export = new Command("export", "Write a chain as JSON Lines for an auditor (GET /admin/ledger/export)")
        {
            LedgerOption, FromOption, AdminKeyOption, output,
        };
        export.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            using var response = await ExportAsync(context, parse, cancellationToken);
            await using var target = parse.GetValue(output) is { } path ? File.Create(path) : Console.OpenStandardOutput();
            await response.Content.CopyToAsync(target, cancellationToken);
        }));

        var file = new Option<string?>("--file") { Description = "Verify this export instead of downloading one" };
        var verify = new Command("verify",
            "Walk a chain and the gate's signed checkpoints; report the first entry changed, deleted or reordered (exit 1 then)")
        {
            LedgerOption, FromOption, AdminKeyOption, file,
        };
        verify.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var ledger = parse.GetValue(LedgerOption)!;
            var gate = context.PlainClient();
            var published = await ReadAsync<PublishedCheckpoints>(gate, $".well-known/ledger-checkpoints?ledger={ledger}", cancellationToken);
            var keys = JwkSet.TryParse(await gate.GetStringAsync(".well-known/jwks.json", cancellationToken))
                ?? throw new CliException("the gate's /.well-known/jwks.json is not a JWK set");
            var (verified, unverified) = LedgerCheckpoints.Verify(published.Checkpoints, ledger, keys);
            var walker = new LedgerChainWalker(verified);
            foreach (var (position, detail) in unverified)
                walker.CheckpointSignatureFailed(position, detail);

            using var response = parse.GetValue(file) is null ? await ExportAsync(context, parse, cancellationToken) : null;
            await using var source = response is null ? File.OpenRead(parse.GetValue(file)!) : await response.Content.ReadAsStreamAsync(cancellationToken);
            using var reader = new StreamReader(source);
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.Length == 0) continue;
                var entry = JsonSerializer.Deserialize<LedgerExportLine>(line, JsonSerializerOptions.Web)
                    ?? throw new CliException("the export holds a line that is not an entry");
                walker.Add(entry.ToRecord());
            }
            var report = walker.Finish(DateTimeOffset.UtcNow);
            context.Print(new { ledger, report }, () => Output.Fields(
                ("ledger", ledger), ("valid", report.Valid ? "yes" : "NO"), ("entries", report.Entries.ToString()), ("head", report.Head),
                ("checkpoints", $"{report.CheckpointsVerified} verified with the gate's published keys"), ("problems", report.Problems.ToString()),
                ("first problem", report.FirstProblem is { } p ? $"position {p.Position}: {p.Problem} ({p.Source} {p.Kind} {p.RowId}) {p.Detail}" : null)));
            if (!report.Valid)
                throw new CliException($"the {ledger} ledger chain does not verify: first problem at position {report.FirstProblem!.Position} ({report.FirstProblem.Problem})");
        }));

        audit.Subcommands.Add(export);
        audit.Subcommands.Add(verify);
        return audit;
    }

    /// <summary><c>GET {from}/admin/ledger/export</c> with the admin key, the body left to stream.</summary>
    static async Task<HttpResponseMessage> ExportAsync(CliContext context, ParseResult parse, CancellationToken cancellationToken)
    {
        var from = parse.GetValue(FromOption) ?? (parse.GetValue(LedgerOption) == "gate" ? context.Gate.ToString()
            : throw new CliException("--from: the base URL of SessionApi (its admin endpoints are not behind the gate)"));
        var key = parse.GetValue(AdminKeyOption) ?? Environment.GetEnvironmentVariable("SESSIONS_ADMIN_KEY")
            ?? throw new CliException("--admin-key (or SESSIONS_ADMIN_KEY) is required to export a chain");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(context.Resolve(from.TrimEnd('/') + "/"), "admin/ledger/export"));
        request.Headers.Add("X-Admin-Key", key);
        var response = await context.PlainClient().SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.IsSuccessStatusCode) return response;
        using (response)
            throw new CliException($"ledger export: {CliContext.Failure(response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken))}");
    }

    static async Task<T> ReadAsync<T>(HttpClient client, string path, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(path, cancellationToken);
        var json = await CliContext.JsonOrFailAsync(response, path, cancellationToken);
        return json.Deserialize<T>(JsonSerializerOptions.Web) ?? throw new CliException($"{path}: unexpected answer");
    }
}
