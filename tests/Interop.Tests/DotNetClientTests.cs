using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Sessions.Client;
using Sessions.Payments;

namespace Interop.Tests;

/// <summary>
/// Issue 18's "interop both ways" for the .NET client (<c>Sessions.Client</c>'s <see cref="PaymentHandler"/> with a
/// <see cref="LocalKeySigner"/>): it pays the official <c>@x402/express</c> server that verifies and settles through our
/// facilitator (code we did not write accepts its signatures), and it pays our gate with x402 v2, v1, MPP and a session.
/// </summary>
public class DotNetClientTests(StackFixture stack)
{
    const long Funding = PaymentAssertions.Funding;
    const long PutPrice = PaymentAssertions.PutPrice;
    const long GetPrice = PaymentAssertions.GetPrice;
    const long ExpressPrice = 1_000;   // "$0.001" on the express app's GET /premium

    [Fact]
    public async Task Pays_the_official_express_server_settling_through_our_facilitator()
    {
        var ct = TestContext.Current.CancellationToken;
        var payer = await stack.FundedWalletAsync(Funding, ct);
        var merchant = Wallet.Create();
        using var express = await ExpressServer.StartAsync(stack, merchant.Address, ct);
        await using var provider = Client(payer, options => { });
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("pay");

        using var response = await http.GetAsync(new Uri(express.BaseUrl, "/premium"), ct);
        var body = await response.Content.ReadAsStringAsync(ct);

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}\n{express.Output}");
        Assert.Contains("\"premium\":true", body);
        var paid = response.GetPaymentResult();
        Assert.NotNull(paid);
        Assert.Equal((PaymentProtocol.X402V2, ExpressPrice, true), (paid.Protocol, (long)paid.Amount.Value, paid.Settled));
        Assert.StartsWith("0x", paid.Transaction);
        Assert.Equal(payer.AddressLower, paid.Payer.ToString().ToLowerInvariant());
        Assert.Equal(Atomic(Funding - ExpressPrice), (await stack.AccountAsync(payer.Address, ct)).Balance);
        Assert.Equal(Atomic(ExpressPrice), (await stack.AccountAsync(merchant.Address, ct)).Balance);
    }

    [Theory]
    [InlineData(PaymentProtocol.X402V2)]
    [InlineData(PaymentProtocol.X402V1)]
    [InlineData(PaymentProtocol.Mpp)]
    public async Task Pays_our_gate_once_with(PaymentProtocol protocol)
    {
        var ct = TestContext.Current.CancellationToken;
        var payer = await stack.FundedWalletAsync(Funding, ct);
        await using var provider = Client(payer, options => options.Protocols = [protocol]);
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("pay");
        var key = $"dotnet/{protocol}/{Guid.NewGuid():N}";

        using var response = await http.PutAsync($"api/content/{key}", new StringContent("from .NET"), ct);
        var body = await response.Content.ReadAsStringAsync(ct);

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}{stack.TailOfLogs("paymentgate", 20)}");
        var paid = response.GetPaymentResult();
        Assert.NotNull(paid);
        Assert.Equal((protocol, PutPrice, true), (paid.Protocol, (long)paid.Amount.Value, paid.Settled));
        Assert.False(string.IsNullOrEmpty(paid.Transaction));
        await PaymentAssertions.ChargedAsync(stack, payer, [PutPrice], ct);
    }

    [Fact]
    public async Task Pays_our_gate_through_a_session_closed_with_the_refund()
    {
        var ct = TestContext.Current.CancellationToken;
        var payer = await stack.FundedWalletAsync(Funding, ct);
        var key = $"dotnet/session/{Guid.NewGuid():N}";
        await using (var plain = Client(payer, options => { }))
        {
            using var put = await plain.GetRequiredService<IHttpClientFactory>().CreateClient("pay")
                .PutAsync($"api/content/{key}", new StringContent("session read"), ct);
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        const long deposit = 100 * GetPrice;
        await using var provider = Client(payer, options => options.Sessions = new SessionOptions { Deposit = new AtomicAmount(deposit) });
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("pay");
        for (var i = 0; i < 3; i++)
        {
            using var read = await http.GetAsync($"api/content/{key}", ct);
            Assert.Equal((HttpStatusCode.OK, "session read"), (read.StatusCode, await read.Content.ReadAsStringAsync(ct)));
            Assert.Null(read.GetPaymentResult());   // paid by the session's token, nothing signed
        }
        var sessions = provider.GetRequiredKeyedService<PaymentSessions>("pay");
        var session = Assert.Single(sessions.Open);
        Assert.Equal(Atomic(Funding - PutPrice - deposit), (await stack.AccountAsync(payer.Address, ct)).Balance);

        var closed = Assert.Single(await sessions.CloseAllAsync(ct));
        Assert.Equal((session.Id, deposit - 3 * GetPrice, "ledger"), (closed.Id, (long)closed.Refunded.Value, closed.Method));
        Assert.Empty(sessions.Open);
        Assert.Equal(Atomic(Funding - PutPrice - 3 * GetPrice), (await stack.AccountAsync(payer.Address, ct)).Balance);

        // Disposing the client closes what is still open: a second session, one GET, refunded on dispose.
        var again = Client(payer, options => options.Sessions = new SessionOptions { Deposit = new AtomicAmount(deposit) });
        using (var read = await again.GetRequiredService<IHttpClientFactory>().CreateClient("pay").GetAsync($"api/content/{key}", ct))
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Single(again.GetRequiredKeyedService<PaymentSessions>("pay").Open);
        await again.DisposeAsync();
        Assert.Equal(Atomic(Funding - PutPrice - 4 * GetPrice), (await stack.AccountAsync(payer.Address, ct)).Balance);
    }

    ServiceProvider Client(Wallet payer, Action<PaymentClientOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddHttpClient("pay", client => client.BaseAddress = new Uri(stack.GateUrl + "/"))
            .AddPaymentHandler(options =>
            {
                options.Signer = new LocalKeySigner(payer.PrivateKey);
                options.SpendPolicy = new SpendPolicy { MaxPerPayment = new AtomicAmount(100 * GetPrice) };
                configure(options);
            });
        return services.BuildServiceProvider();
    }

    static string Atomic(long amount) => amount.ToString(CultureInfo.InvariantCulture);

    /// <summary><c>SERVE_ONLY=1 node express-facilitator.mjs</c>: the official express app on our facilitator, until disposed.</summary>
    sealed class ExpressServer : IDisposable
    {
        readonly Process _process;
        readonly System.Text.StringBuilder _output = new();

        ExpressServer(Process process) => _process = process;

        public Uri BaseUrl { get; private set; } = null!;

        public string Output { get { lock (_output) return _output.ToString(); } }

        public static async Task<ExpressServer> StartAsync(StackFixture stack, string payTo, CancellationToken cancellationToken)
        {
            var start = new ProcessStartInfo("node")
            {
                WorkingDirectory = stack.Node.ScriptDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add("express-facilitator.mjs");
            start.Environment["SERVE_ONLY"] = "1";
            start.Environment["GATE_URL"] = stack.GateUrl;
            start.Environment["PAY_TO"] = payTo;
            var server = new ExpressServer(Process.Start(start)!);
            var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
            server._process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (server._output) server._output.AppendLine(e.Data);
                if (e.Data.StartsWith("listening ", StringComparison.Ordinal)) listening.TrySetResult(new Uri(e.Data["listening ".Length..].Trim()));
            };
            server._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (server._output) server._output.AppendLine(e.Data); };
            server._process.BeginOutputReadLine();
            server._process.BeginErrorReadLine();
            try
            {
                var exited = server._process.WaitForExitAsync(cancellationToken);
                var first = await Task.WhenAny(listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(30), cancellationToken));
                Assert.True(first == listening.Task, $"express-facilitator.mjs (SERVE_ONLY) did not start:\n{server.Output}");
                server.BaseUrl = await listening.Task;
                return server;
            }
            catch
            {
                server.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            _process.Dispose();
        }
    }
}
