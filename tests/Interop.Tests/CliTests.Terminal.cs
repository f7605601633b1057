using System.Diagnostics;
using System.Text.Json;

namespace Interop.Tests;

/// <summary>
/// The spinner while a payment settles is for a person at a terminal: the built tool run on a pseudo-terminal (util-linux
/// <c>script</c>) shows it and erases it before the answer; with <c>--json</c> on the same terminal, and in every redirected
/// run of the other CLI tests (their exact outputs), there is none.
/// </summary>
public partial class CliTests
{
    const string Script = "/usr/bin/script";

    [Fact]
    public async Task On_a_terminal_a_spinner_turns_while_the_payment_settles_and_never_with_json()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && File.Exists(Script), "needs util-linux script for a pseudo-terminal");
        var ct = TestContext.Current.CancellationToken;
        var payer = await stack.FundedWalletAsync(Funding, ct);
        string[] wallet = ["--gate", stack.GateUrl, "--key", payer.PrivateKey];

        var human = await TerminalAsync(ct, [.. wallet, "pay", "/api/content/cli-terminal/a", "--method", "PUT", "--data", "on a tty"]);
        Assert.True(human.ExitCode == 0, human.Output);
        var spinning = human.Output.IndexOf("\r| settling the payment", StringComparison.Ordinal);
        Assert.True(spinning >= 0, $"no spinner in: {human.Output}");
        var erased = human.Output.IndexOf("\r\u001b[2K", spinning, StringComparison.Ordinal);
        Assert.True(erased > spinning, $"the spinner's line is not erased: {human.Output}");
        Assert.True(human.Output.IndexOf("status       200 OK", StringComparison.Ordinal) > erased, human.Output);

        var json = await TerminalAsync(ct, ["--json", .. wallet, "pay", "/api/content/cli-terminal/a", "--method", "PUT", "--data", "on a tty"]);
        Assert.True(json.ExitCode == 0, json.Output);
        Assert.DoesNotContain("settling", json.Output);
        // Between the terminal mode sequences the runtime writes at start and exit.
        var answer = json.Output[json.Output.IndexOf('{', StringComparison.Ordinal)..(json.Output.LastIndexOf('}') + 1)];
        using var document = JsonDocument.Parse(answer);
        Assert.Equal(200, document.RootElement.GetProperty("status").GetInt32());
        Assert.Equal(Atomic(Funding - 2 * PutPrice), (await stack.AccountAsync(payer.Address, ct)).Balance);
    }

    /// <summary>The tool with stdout and stderr on one pseudo-terminal; its exit code (<c>script -e</c>) and all it wrote.</summary>
    static Task<CliRun> TerminalAsync(CancellationToken cancellationToken, params string[] args)
    {
        Assert.True(File.Exists(CliDll), $"the CLI is not built at {CliDll}");
        var start = new ProcessStartInfo(Script) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["-qefc", string.Join(' ', ((string[])["dotnet", CliDll, .. args]).Select(Quoted)), "/dev/null"])
            start.ArgumentList.Add(arg);
        return RunProcessAsync(start, cancellationToken);
    }

    static string Quoted(string arg) => "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
