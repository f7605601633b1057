using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace Interop.Tests;

/// <summary>
/// Issue 18's CLI acceptance: the built <c>sessions</c> tool, run as a process against the running stack, makes a wallet,
/// funds it, pays a route, opens a session, spends it with <c>pay --session</c>, lists it, closes it for the exact refund and
/// shows the balance back; failures exit non-zero with one line on stderr.
/// </summary>
public partial class CliTests(StackFixture stack)
{
    const long Funding = PaymentAssertions.Funding;
    const long PutPrice = PaymentAssertions.PutPrice;
    const long GetPrice = PaymentAssertions.GetPrice;

    static readonly string CliDll = typeof(CliTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "SessionsCliDll").Value!;

    [Fact]
    public async Task Wallet_pay_and_a_session_from_open_to_refund_through_the_built_tool()
    {
        var ct = TestContext.Current.CancellationToken;
        var home = Directory.CreateTempSubdirectory("sessions-cli-");
        var keyFile = Path.Combine(home.FullName, "key");
        try
        {
            var pricing = await JsonAsync(ct, "--gate", stack.GateUrl, "pricing");
            var putRoute = Assert.Single(pricing.GetProperty("routes").EnumerateArray(),
                r => r.GetProperty("method").GetString() == "PUT" && r.GetProperty("path").GetString() == "/api/content/{key}");
            Assert.Equal(Atomic(PutPrice), putRoute.GetProperty("amount").GetString());

            var created = await JsonAsync(ct, "wallet", "new", "--key-file", keyFile);
            var address = created.GetProperty("address").GetString()!;
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
            string[] wallet = ["--gate", stack.GateUrl, "--key-file", keyFile];

            var funded = await JsonAsync(ct, [.. wallet, "wallet", "fund", Atomic(Funding)]);
            Assert.Equal((Atomic(Funding), Atomic(Funding)), (funded.GetProperty("funded").GetString(), funded.GetProperty("balance").GetString()));

            // A paid request through the PaymentHandler: x402 v2 (the gate's first offer), settled on the local ledger.
            var put = await JsonAsync(ct, [.. wallet, "pay", "/api/content/cli/note", "--method", "PUT", "--data", "hello"]);
            Assert.Equal(200, put.GetProperty("status").GetInt32());
            var payment = put.GetProperty("payment");
            Assert.Equal(("x402-v2", Atomic(PutPrice), true, address.ToLowerInvariant()),
                (payment.GetProperty("protocol").GetString(), payment.GetProperty("amount").GetString(), payment.GetProperty("settled").GetBoolean(),
                 payment.GetProperty("payer").GetString()!.ToLowerInvariant()));
            Assert.StartsWith("0x", payment.GetProperty("transaction").GetString());

            // Open a session of 100 GET prices: paid once, its token stored next to the key.
            const long deposit = 100 * GetPrice;
            var opened = await JsonAsync(ct, [.. wallet, "session", "open", "--deposit", Atomic(deposit)]);
            var id = opened.GetProperty("session").GetProperty("id").GetString()!;
            Assert.Equal(("ACTIVE", Atomic(deposit), Atomic(deposit)),
                (opened.GetProperty("session").GetProperty("state").GetString(), opened.GetProperty("session").GetProperty("balance").GetString(),
                 opened.GetProperty("payment").GetProperty("amount").GetString()));
            Assert.Contains(id, File.ReadAllText(Path.Combine(home.FullName, "sessions.json")));

            // Spend it: two GETs with the session, no payment.
            for (var i = 1; i <= 2; i++)
            {
                var read = await JsonAsync(ct, [.. wallet, "pay", "/api/content/cli/note", "--session", id]);
                Assert.Equal((200, "hello", JsonValueKind.Null), (read.GetProperty("status").GetInt32(), read.GetProperty("body").GetString(), read.GetProperty("payment").ValueKind));
                Assert.Equal((id, Atomic(deposit - i * GetPrice)),
                    (read.GetProperty("session").GetProperty("id").GetString(), read.GetProperty("session").GetProperty("balance").GetString()));
            }

            // The human form: aligned fields, then the body.
            var human = await RunAsync(ct, [.. wallet, "pay", "/api/content/cli/note", "--session", id]);
            Assert.True(human.ExitCode == 0, human.Error);
            Assert.Equal($"status       200 OK\npaid         by session\nsettled      -\ntransaction  -\nsession      {id}, balance {deposit - 3 * GetPrice}\n\nhello\n",
                human.Output);

            var shown = await JsonAsync(ct, [.. wallet, "session", "show", id]);
            Assert.Equal((Atomic(3 * GetPrice), Atomic(deposit - 3 * GetPrice), 3L),
                (shown.GetProperty("spent").GetString(), shown.GetProperty("balance").GetString(), shown.GetProperty("requestCount").GetInt64()));

            // A paid top-up of 5 GET prices.
            const long topUp = 5 * GetPrice;
            var topped = await JsonAsync(ct, [.. wallet, "session", "top-up", id, "--amount", Atomic(topUp)]);
            Assert.Equal((Atomic(topUp), Atomic(deposit - 3 * GetPrice + topUp), Atomic(topUp)),
                (topped.GetProperty("session").GetProperty("toppedUp").GetString(), topped.GetProperty("session").GetProperty("balance").GetString(),
                 topped.GetProperty("payment").GetProperty("amount").GetString()));

            var listed = await JsonAsync(ct, [.. wallet, "session", "list"]);
            var item = Assert.Single(listed.GetProperty("items").EnumerateArray());
            Assert.Equal((id, "ACTIVE"), (item.GetProperty("id").GetString(), item.GetProperty("state").GetString()));
            var table = await RunAsync(ct, [.. wallet, "session", "list"]);
            Assert.True(table.ExitCode == 0, table.Error);
            Assert.StartsWith("ID", table.Output);
            Assert.Contains(id, table.Output);

            const long remainder = deposit - 3 * GetPrice + topUp;
            var closed = await JsonAsync(ct, [.. wallet, "session", "close", id]);
            Assert.Equal((Atomic(remainder), "ledger", "REFUNDED"),
                (closed.GetProperty("refunded").GetString(), closed.GetProperty("method").GetString(), closed.GetProperty("state").GetString()));

            var shownWallet = await JsonAsync(ct, [.. wallet, "wallet", "show"]);
            Assert.Equal((address, Atomic(Funding - PutPrice - deposit - topUp + remainder)),
                (shownWallet.GetProperty("address").GetString(), shownWallet.GetProperty("balance").GetString()));
            var account = await stack.AccountAsync(address, ct);
            Assert.Equal(Atomic(Funding - PutPrice - deposit - topUp + remainder), account.Balance);

            // A spend limit refuses before anything is signed: exit 2, the limit named, the balance untouched.
            var refused = await RunAsync(ct, [.. wallet, "pay", "/api/content/cli/other", "--method", "PUT", "--data", "x", "--max", Atomic(PutPrice - 1)]);
            Assert.Equal((2, ""), (refused.ExitCode, refused.Output));
            Assert.Matches(@"^error: payment refused by the PerPayment limit: [^\n]+\n$", refused.Error);
            Assert.Equal(Atomic(Funding - PutPrice - deposit - topUp + remainder), (await stack.AccountAsync(address, ct)).Balance);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_bad_key_or_an_unknown_session_is_a_non_zero_exit_with_one_line()
    {
        var ct = TestContext.Current.CancellationToken;
        var badKey = await RunAsync(ct, "--gate", stack.GateUrl, "--key", "0x1234", "wallet", "show");
        Assert.Equal((1, "", "error: invalid key: expected 32 bytes of hex (0x + 64 hex digits)\n"), (badKey.ExitCode, badKey.Output, badKey.Error));

        var home = Directory.CreateTempSubdirectory("sessions-cli-");
        try
        {
            var noSession = await RunAsync(ct, "--gate", stack.GateUrl, "--key", Wallet.Create().PrivateKey, "--state", Path.Combine(home.FullName, "s.json"),
                "session", "show", "ses_unknown");
            Assert.Equal((1, ""), (noSession.ExitCode, noSession.Output));
            Assert.Matches(@"^error: no token for session ses_unknown in [^\n]+\n$", noSession.Error);

            // A problem from the gate: its code and detail on one line (a deposit of 1 is under the minimum).
            var tooSmall = await RunAsync(ct, "--gate", stack.GateUrl, "--key", Wallet.Create().PrivateKey, "--state", Path.Combine(home.FullName, "s.json"),
                "session", "open", "--deposit", "1");
            Assert.Equal((1, ""), (tooSmall.ExitCode, tooSmall.Output));
            Assert.Matches(@"^error: session open: 400 invalid-field: [^\n]+\n$", tooSmall.Error);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    static string Atomic(long amount) => amount.ToString(CultureInfo.InvariantCulture);

    static async Task<JsonElement> JsonAsync(CancellationToken cancellationToken, params string[] args)
    {
        var run = await RunAsync(cancellationToken, ["--json", .. args]);
        Assert.True(run.ExitCode == 0, $"sessions {string.Join(' ', args)} exited {run.ExitCode}: {run.Error}{run.Output}");
        using var json = JsonDocument.Parse(run.Output);
        return json.RootElement.Clone();
    }

    sealed record CliRun(int ExitCode, string Output, string Error);

    static async Task<CliRun> RunAsync(CancellationToken cancellationToken, params string[] args)
    {
        Assert.True(File.Exists(CliDll), $"the CLI is not built at {CliDll}");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(CliDll);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        return await RunProcessAsync(start, cancellationToken);
    }

    static async Task<CliRun> RunProcessAsync(ProcessStartInfo start, CancellationToken cancellationToken)
    {
        // Only what the arguments say: no key, gate or home of the machine running the tests.
        start.Environment.Remove("SESSIONS_KEY");
        start.Environment.Remove("SESSIONS_GATE");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return new CliRun(process.ExitCode, await output, await error);
    }
}
