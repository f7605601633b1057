using System.CommandLine;
using System.Text.Json;

namespace Sessions.Cli;

/// <summary>
/// <c>session offer</c>: terms before money (docs/offers-and-sla.md). Posts an intent to <c>POST /api/offers</c> (free) and prints
/// the signed offer; <c>session open --offer &lt;jws&gt;</c> opens a session bound to it. Also how <c>session show</c> prints terms and SLA.
/// </summary>
public static class OfferCommands
{
    public static Command Create()
    {
        var requests = new Option<long?>("--requests") { Description = "Expected number of requests (picks the volume tier)" };
        var budget = new Option<string>("--budget") { Description = "Budget, atomic units (the deposit offered)" };
        var routes = new Option<string[]>("--route") { Description = "A paid route as GET /api/pricing names it (repeatable; default all)" };
        var duration = new Option<long?>("--duration") { Description = "Session duration, seconds" };
        var latency = new Option<long?>("--latency-ms") { Description = "Latency bound wished for (the gate offers no tighter one than it guarantees)" };
        var organization = new Option<string>("--organization") { Description = "Organisation id (when the gate has several)" };
        var offer = new Command("offer", "Ask for a signed offer (POST /api/offers): prices with the volume tier, deposit, SLA")
            { requests, budget, routes, duration, latency, organization };
        offer.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var wished = parse.GetValue(latency);
            using var response = await context.PlainClient().PostAsync("api/offers", CliContext.JsonBody(new
            {
                organization = parse.GetValue(organization), expectedRequests = parse.GetValue(requests), budget = parse.GetValue(budget),
                routes = parse.GetValue(routes) is { Length: > 0 } named ? named : null, durationSeconds = parse.GetValue(duration),
                sla = wished is null ? null : new { latencyMs = wished },
            }), cancellationToken);
            var answer = await CliContext.JsonOrFailAsync(response, "session offer", cancellationToken);
            var terms = answer.GetProperty("offer");
            context.Print(answer, () => Output.Fields(
                [("offer", CliContext.Text(terms, "id")), ("organization", CliContext.Text(terms, "organization")), .. Prices(terms),
                 ("deposit", CliContext.Text(terms, "deposit")), ("duration", CliContext.Text(terms, "durationSeconds") + " s"), Sla(terms),
                 ("expires", CliContext.Text(terms, "expiresAt")), ("jws", CliContext.Text(answer, "jws"))]));
        }));
        return offer;
    }

    /// <summary>For <c>session show</c>: the session's terms and what the gate measured (nothing for a session on the price list).</summary>
    public static (string, string?)[] TermsLines(JsonElement session)
    {
        if (!session.TryGetProperty("terms", out var terms) || !terms.TryGetProperty("offer", out var offer))
            return [];
        var lines = new List<(string, string?)> { ("offer", CliContext.Text(offer, "id")) };
        lines.AddRange(Prices(offer));
        lines.Add(Sla(offer));
        if (session.TryGetProperty("sla", out var sla))
        {
            lines.Add(("measured", $"{CliContext.Text(sla, "served")} served, {CliContext.Text(sla, "failed")} failed (not charged), " +
                $"{CliContext.Text(sla, "overLatencyBound")} over the bound; p50 {CliContext.Text(sla, "latencyP50Ms")} ms, p95 {CliContext.Text(sla, "latencyP95Ms")} ms"));
            lines.Add(("credited", $"{CliContext.Text(sla, "credited")} in {CliContext.Text(sla, "credits")} credits " +
                $"({CliContext.Text(sla, "availabilityCredits")} for availability under the bound)"));
        }
        return [.. lines];
    }

    static IEnumerable<(string, string?)> Prices(JsonElement offer) =>
        offer.GetProperty("routes").EnumerateArray().Select(r => ("price", (string?)$"{CliContext.Text(r, "price")} {CliContext.Text(r, "route")} (list {CliContext.Text(r, "listPrice")})"));

    static (string, string?) Sla(JsonElement offer)
    {
        var sla = offer.GetProperty("sla");
        return ("sla", $"{CliContext.Text(sla, "latencyCreditPercent")}% back over {CliContext.Text(sla, "latencyMs")} ms, failed requests not charged");
    }
}
