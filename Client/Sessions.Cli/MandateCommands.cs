using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sessions.Client;
using Sessions.Payments;
using Sessions.Payments.Crypto;

namespace Sessions.Cli;

/// <summary>
/// <c>mandate create | list | approvals | approve | deny | revoke</c>: the owner's side of an agent's mandate at the gate
/// (docs/mandates.md "Reaching mandates through the gate") through <see cref="MandateOwner"/>. The key (<c>--key</c>) is the
/// owner's wallet: it signs every call (EIP-712), no payment or session is involved. Creating needs the agent's key as well,
/// because the agent co-signs the terms that bind it. The agent itself only meets its mandate when it pays (a 403 or a 409
/// approval-required from <c>pay</c>; it retries with <c>pay --approval</c>).
/// </summary>
public static class MandateCommands
{
    public static Command Create()
    {
        var mandate = new Command("mandate", "An agent's spending mandate, managed by its owner: the key (--key) is the owner's wallet and signs every call");

        var agentKeyOption = new Option<string?>("--agent-key") { Description = "The agent's private key, hex: it co-signs the terms (env SESSIONS_AGENT_KEY)" };
        var agentKeyFileOption = new Option<string?>("--agent-key-file") { Description = "A file holding the agent's private key" };
        var perTransactionOption = new Option<string?>("--max-per-transaction") { Description = "At most this per payment, atomic units (0 or absent: no limit)" };
        var perDayOption = new Option<string?>("--max-per-day") { Description = "At most this in any 24 hours, atomic units" };
        var perWeekOption = new Option<string?>("--max-per-week") { Description = "At most this in any 7 days, atomic units" };
        var perMonthOption = new Option<string?>("--max-per-month") { Description = "At most this in any 30 days, atomic units" };
        var approvalAboveOption = new Option<string?>("--approval-above") { Description = "A payment above this waits for the owner's approval, atomic units" };
        var merchantOption = new Option<string[]>("--merchant") { Description = "An organisation the agent may pay (repeat; none: any)" };
        var hoursOption = new Option<int>("--hours") { Description = "How long the mandate lasts, hours (at most 168)", DefaultValueFactory = _ => 24 };
        var nameOption = new Option<string?>("--name") { Description = "The agent's name, kept as unsigned metadata" };
        var create = new Command("create", "Mandate an agent (POST /api/mandates, signed by the owner and the agent)")
        {
            agentKeyOption, agentKeyFileOption, perTransactionOption, perDayOption, perWeekOption, perMonthOption, approvalAboveOption, merchantOption,
            hoursOption, nameOption,
        };
        create.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var agent = AgentSigner(parse.GetValue(agentKeyOption), parse.GetValue(agentKeyFileOption));
            var limits = new MandateLimits(
                Limit(parse.GetValue(perTransactionOption), "--max-per-transaction"), Limit(parse.GetValue(perDayOption), "--max-per-day"),
                Limit(parse.GetValue(perWeekOption), "--max-per-week"), Limit(parse.GetValue(perMonthOption), "--max-per-month"),
                Limit(parse.GetValue(approvalAboveOption), "--approval-above"), parse.GetValue(merchantOption) ?? []);
            var hours = parse.GetValue(hoursOption);
            if (hours <= 0)
                throw new CliException($"--hours must be a positive number of hours, not {hours}");
            var metadata = parse.GetValue(nameOption) is { } name ? new JsonObject { ["agentName"] = name } : null;
            using var response = await Owner(context).CreateAsync(agent, limits, TimeSpan.FromHours(hours), metadata, cancellationToken);
            var created = await CliContext.JsonOrFailAsync(response, "mandate create", cancellationToken);
            context.Print(created, () => Show(created));
        }));

        var agentOption = new Option<string?>("--agent") { Description = "Only this agent's mandates (its address)" };
        var limitOption = new Option<int?>("--limit") { Description = "At most this many, newest first" };
        var list = new Command("list", "The owner's mandates, newest first (GET /api/mandates?user=, a signed read)") { agentOption, limitOption };
        list.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            EvmAddress? agent = null;
            if (parse.GetValue(agentOption) is { } agentText && !EvmAddress.TryParse(agentText, out agent))
                throw new CliException($"--agent must be an address (0x + 40 hex digits), not '{agentText}'");
            using var response = await Owner(context).ListAsync(agent, parse.GetValue(limitOption), cancellationToken);
            var mandates = await CliContext.JsonOrFailAsync(response, "mandate list", cancellationToken);
            context.Print(mandates, () => Output.Table(["ID", "AGENT", "STATE", "PER TX", "PER DAY", "APPROVAL ABOVE", "SPENT TODAY", "EXPIRES"],
                PricingCommand.Items(mandates, "items").Select(m => (IReadOnlyList<string?>)
                    [CliContext.Text(m, "id"), CliContext.Text(m, "agent"), CliContext.Text(m, "state"), CliContext.Text(m, "maxPerTransaction"),
                     CliContext.Text(m, "maxPerDay"), CliContext.Text(m, "requireApprovalAbove"), CliContext.Text(m, "spentToday"), CliContext.Text(m, "expiresAt")])));
        }));

        var mandateIdArgument = new Argument<string>("id") { Description = "The mandate id (man_…)" };
        var approvals = new Command("approvals", "The payments held for the owner's approval and the decisions (GET /api/mandates/{id}/approvals)") { mandateIdArgument };
        approvals.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            using var response = await Owner(context).ApprovalsAsync(parse.GetRequiredValue(mandateIdArgument), cancellationToken);
            var held = await CliContext.JsonOrFailAsync(response, "mandate approvals", cancellationToken);
            context.Print(held, () => Output.Table(["ID", "ORG", "AMOUNT", "STATE", "CREATED", "DECIDED"],
                PricingCommand.Items(held, "items").Select(a => (IReadOnlyList<string?>)
                    [CliContext.Text(a, "id"), CliContext.Text(a, "organization"), CliContext.Text(a, "amount"), CliContext.Text(a, "state"),
                     CliContext.Text(a, "createdAt"), CliContext.Text(a, "decidedAt")])));
        }));

        var revoke = new Command("revoke", "Revoke a mandate: the agent may spend nothing more (POST /api/mandates/{id}/revoke, signed)") { mandateIdArgument };
        revoke.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            using var response = await Owner(context).RevokeAsync(parse.GetRequiredValue(mandateIdArgument), cancellationToken);
            var revoked = await CliContext.JsonOrFailAsync(response, "mandate revoke", cancellationToken);
            context.Print(revoked, () => Show(revoked));
        }));

        mandate.Add(create);
        mandate.Add(list);
        mandate.Add(approvals);
        mandate.Add(Decision("approve", approve: true));
        mandate.Add(Decision("deny", approve: false));
        mandate.Add(revoke);
        return mandate;
    }

    static Command Decision(string name, bool approve)
    {
        var approvalIdArgument = new Argument<string>("approval") { Description = "The approval id (apr_…, from `mandate approvals` or the agent's 409)" };
        var decide = new Command(name, $"{(approve ? "Approve" : "Deny")} a held payment (POST /api/approvals/{{id}}/{name}, signed)") { approvalIdArgument };
        decide.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            using var response = await Owner(context).DecideAsync(parse.GetRequiredValue(approvalIdArgument), approve, cancellationToken);
            var decided = await CliContext.JsonOrFailAsync(response, $"mandate {name}", cancellationToken);
            context.Print(decided, () => Output.Fields(("id", CliContext.Text(decided, "id")), ("mandate", CliContext.Text(decided, "mandateId")),
                ("organization", CliContext.Text(decided, "organization")), ("amount", CliContext.Text(decided, "amount")),
                ("state", CliContext.Text(decided, "state")), ("decided", CliContext.Text(decided, "decidedAt"))));
        }));
        return decide;
    }

    static MandateOwner Owner(CliContext context) => new(context.PlainClient(), context.Signer());

    static LocalKeySigner AgentSigner(string? key, string? keyFile)
    {
        if (key is null && keyFile is not null)
        {
            if (!File.Exists(keyFile))
                throw new CliException($"--agent-key-file {keyFile} does not exist");
            key = File.ReadAllText(keyFile);
        }
        key ??= Environment.GetEnvironmentVariable("SESSIONS_AGENT_KEY");
        return string.IsNullOrWhiteSpace(key)
            ? throw new CliException("mandate create: the agent co-signs its mandate: pass --agent-key, --agent-key-file or SESSIONS_AGENT_KEY")
            : CliContext.SignerOf(key.Trim(), "agent key");
    }

    /// <summary>A limit in atomic units: absent or 0 is no limit.</summary>
    static AtomicAmount? Limit(string? text, string name) =>
        text is null ? null
        : AtomicAmount.TryParse(text, out var amount) ? amount
        : throw new CliException($"{name} must be a whole number of atomic units (0: no limit), not '{text}'");

    static void Show(JsonElement mandate)
    {
        var merchants = mandate.TryGetProperty("allowedMerchants", out var list) && list.ValueKind == JsonValueKind.Array && list.GetArrayLength() > 0
            ? string.Join(", ", list.EnumerateArray().Select(m => m.GetString()))
            : "any";
        Output.Fields(("id", CliContext.Text(mandate, "id")), ("user", CliContext.Text(mandate, "user")), ("agent", CliContext.Text(mandate, "agent")),
            ("state", CliContext.Text(mandate, "state")), ("per transaction", CliContext.Text(mandate, "maxPerTransaction")),
            ("per day", CliContext.Text(mandate, "maxPerDay")), ("per week", CliContext.Text(mandate, "maxPerWeek")),
            ("per month", CliContext.Text(mandate, "maxPerMonth")), ("approval above", CliContext.Text(mandate, "requireApprovalAbove")),
            ("merchants", merchants), ("spent today", CliContext.Text(mandate, "spentToday")), ("expires", CliContext.Text(mandate, "expiresAt")),
            ("revoked", CliContext.Text(mandate, "revokedAt")));
    }
}
