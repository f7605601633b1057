using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace Interop.Tests;

/// <summary>
/// Issue 19's acceptance through the running stack: a request paid by the official x402 client and a session request each
/// return a receipt that the Node verifier (tools/verify-receipt.mjs, standard library only) and the built CLI
/// (<c>sessions receipts verify</c>) accept offline with the gate's JWKS and the answer's body; a changed body is refused.
/// </summary>
public class ReceiptsTests(StackFixture stack)
{
    static readonly string CliDll = typeof(ReceiptsTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "SessionsCliDll").Value!;

    [Fact]
    public async Task A_paid_request_and_a_session_request_return_receipts_the_node_verifier_and_the_cli_accept()
    {
        var ct = TestContext.Current.CancellationToken;
        var wallet = await stack.FundedWalletAsync(PaymentAssertions.Funding, ct);
        var dir = Directory.CreateTempSubdirectory("receipts-interop-");
        try
        {
            var result = await stack.RunScriptAsync("receipts.mjs", new Dictionary<string, string>
            {
                ["GATE_URL"] = stack.GateUrl, ["PRIVATE_KEY"] = wallet.PrivateKey, ["RECEIPTS_DIR"] = dir.FullName,
            }, ct);
            var context = NodeRunner.Pretty(result);
            var payer = wallet.Address.ToLowerInvariant();

            var paid = result.GetProperty("paid");
            Assert.True(paid.GetProperty("status").GetInt32() == 200, context);
            var paidReceipt = paid.GetProperty("verified");
            Assert.Equal(("x402-v2", payer, PaymentAssertions.PutPrice.ToString(), "PUT /api/content/{**key}"),
                (paidReceipt.GetProperty("method").GetString(), paidReceipt.GetProperty("payer").GetString()!.ToLowerInvariant(),
                 paidReceipt.GetProperty("amount").GetString(), paidReceipt.GetProperty("route").GetString()));
            Assert.Equal(1, paid.GetProperty("tamperedExit").GetInt32());

            var session = result.GetProperty("session");
            Assert.True(session.GetProperty("status").GetInt32() == 200, context);
            var sessionReceipt = session.GetProperty("verified");
            Assert.Equal(("session", result.GetProperty("sessionId").GetString(), (100_000 - PaymentAssertions.GetPrice).ToString()),
                (sessionReceipt.GetProperty("method").GetString(), sessionReceipt.GetProperty("sessionId").GetString(),
                 sessionReceipt.GetProperty("balanceAfter").GetString()));
            Assert.Equal(1, session.GetProperty("tamperedExit").GetInt32());

            // The built CLI verifies the same files offline, and refuses the changed body.
            foreach (var name in new[] { "paid", "session" })
            {
                var (exit, output, error) = await CliAsync(ct, "--json", "receipts", "verify", Path.Combine(dir.FullName, $"{name}.jws"),
                    "--jwks", Path.Combine(dir.FullName, "jwks.json"), "--body", Path.Combine(dir.FullName, $"{name}.body"));
                Assert.True(exit == 0, $"{name}: {error}{output}");
                using var verified = JsonDocument.Parse(output);
                Assert.True(verified.RootElement.GetProperty("valid").GetBoolean());
                var tampered = await CliAsync(ct, "receipts", "verify", Path.Combine(dir.FullName, $"{name}.jws"),
                    "--jwks", Path.Combine(dir.FullName, "jwks.json"), "--body", Path.Combine(dir.FullName, $"{name}.tampered"));
                Assert.Equal(1, tampered.Exit);
                Assert.Contains("ResponseHashMismatch", tampered.Error);
            }

            // The payer lists both at the gate with its session token.
            var ids = new[] { paidReceipt.GetProperty("id").GetString(), sessionReceipt.GetProperty("id").GetString() };
            for (var attempt = 0; ; attempt++)
            {
                using var listed = await stack.Gate.SendAsync(new HttpRequestMessage(HttpMethod.Get, "api/receipts")
                    { Headers = { { "Payment-Session", result.GetProperty("token").GetString() } } }, ct);
                using var page = JsonDocument.Parse(await listed.Content.ReadAsStringAsync(ct));
                var listedIds = page.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()).ToList();
                if (ids.All(listedIds.Contains))
                    break;
                Assert.True(attempt < 20, $"receipts not listed after 2 s: {page.RootElement}");
                await Task.Delay(100, ct);   // written in batches every 100 ms
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    static async Task<(int Exit, string Output, string Error)> CliAsync(CancellationToken cancellationToken, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(CliDll);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await output, await error);
    }
}
