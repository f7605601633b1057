using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Paywall;
using Sessions.Client;
using Sessions.Payments.Receipts;
using Sessions.Testing;

namespace Client.Tests;

// Issue 19: the client library reads and verifies the gate's receipt of a paid answer against the gate's JWK set; a changed
// body, a changed receipt or another gate's keys fail. The Node verifier (tools/verify-receipt.mjs) agrees, offline.
public sealed class ReceiptClientTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    PaywallHarness _gate = null!;
    ServiceProvider? _services;
    readonly TestPayer _payer = new();

    public async ValueTask InitializeAsync()
    {
        _gate = await PaywallHarness.StartAsync(infrastructure, new() { ["Gate:Receipts:SigningKeys:0"] = "client-tests-receipt-key" });
        await _gate.FundAsync(_payer);
    }

    public async ValueTask DisposeAsync()
    {
        if (_services is not null)
            await _services.DisposeAsync();
        await _gate.DisposeAsync();
    }

    HttpClient Client()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("gate", client => client.BaseAddress = _gate.Http.BaseAddress)
            .ConfigurePrimaryHttpMessageHandler(() => _gate.Factory.Server.CreateHandler())
            .AddPaymentHandler(options => options.Signer = new LocalKeySigner(_payer.Key));
        _services = services.BuildServiceProvider();
        return _services.GetRequiredService<IHttpClientFactory>().CreateClient("gate");
    }

    [Fact]
    public async Task A_paid_answer_carries_a_receipt_the_client_verifies_and_tampering_fails()
    {
        using var http = Client();
        using var response = await http.PutAsync("/api/content/notes/receipt", new StringContent("buy milk"), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var keys = await GateReceipts.FetchJwksAsync(http, cancellationToken: Ct);
        var check = await response.VerifyReceiptAsync(keys, Ct);
        Assert.True(check.IsValid, check.Error);
        Assert.Equal((_payer.Lower, "10000", response.GetPaymentResult()!.Transaction), (check.Receipt!.Payer, check.Receipt.Amount, check.Receipt.Reference));

        var jws = response.GetReceipt()!;
        var body = await response.Content.ReadAsByteArrayAsync(Ct);
        var verifier = new ReceiptVerifier(keys);
        Assert.Equal("ResponseHashMismatch", verifier.Verify(jws, [.. body, (byte)' '], checkResponseBody: true).Error);
        var changed = jws[..^5] + (jws[^5] == 'A' ? 'B' : 'A') + jws[^4..];
        Assert.False(verifier.Verify(changed).IsValid);
        var otherGate = new JwkSet { Keys = [Ed25519Key.FromSecret("another-gate").Jwk] };
        Assert.Equal("UnknownKey", new ReceiptVerifier(otherGate).Verify(jws).Error);

        // The same receipt through the Node verifier, with only node:crypto and node:fs, offline.
        var dir = Directory.CreateTempSubdirectory("receipt-");
        try
        {
            var (receiptFile, jwksFile, bodyFile) = (Path.Combine(dir.FullName, "r.jws"), Path.Combine(dir.FullName, "jwks.json"), Path.Combine(dir.FullName, "body"));
            await File.WriteAllTextAsync(receiptFile, jws, Ct);
            await File.WriteAllTextAsync(jwksFile, keys.ToJson(), Ct);
            await File.WriteAllBytesAsync(bodyFile, body, Ct);
            var valid = await NodeAsync(receiptFile, jwksFile, bodyFile);
            Assert.True(valid.ExitCode == 0, valid.Output);
            Assert.Contains(check.Receipt.Id, valid.Output);

            await File.WriteAllBytesAsync(bodyFile, [.. body, (byte)' '], Ct);
            Assert.Equal(1, (await NodeAsync(receiptFile, jwksFile, bodyFile)).ExitCode);
            await File.WriteAllTextAsync(receiptFile, changed, Ct);
            Assert.Equal(1, (await NodeAsync(receiptFile, jwksFile)).ExitCode);
            await File.WriteAllTextAsync(receiptFile, jws, Ct);
            await File.WriteAllTextAsync(jwksFile, otherGate.ToJson(), Ct);
            Assert.Equal(1, (await NodeAsync(receiptFile, jwksFile)).ExitCode);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    static async Task<(int ExitCode, string Output)> NodeAsync(params string[] arguments)
    {
        var script = Path.Combine(RepositoryRoot(), "tools", "verify-receipt.mjs");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync(Ct) + await process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        return (process.ExitCode, output);
    }

    static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sessions.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Sessions.sln not found above the test's directory");
    }
}
