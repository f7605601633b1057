using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sessions.Client;
using Sessions.Payments;

namespace Interop.Tests;

/// <summary>
/// Issue 20's acceptance through the running stack: an agent gets a signed offer, opens a session on it (paid by the .NET
/// client), hits a slow route (McpServer's Development <c>?delayMs=</c>, over the offer's 2000 ms bound) and sees the 50%
/// credit in its balance, in the session's SLA figures and in the refund at close.
/// </summary>
public class OffersTests(StackFixture stack)
{
    const long GetPrice = PaymentAssertions.GetPrice;
    const long PutPrice = PaymentAssertions.PutPrice;

    [Fact]
    public async Task An_agent_gets_an_offer_opens_a_session_on_it_and_a_slow_answer_is_credited_in_balance_and_refund()
    {
        var ct = TestContext.Current.CancellationToken;
        var payer = await stack.FundedWalletAsync(PaymentAssertions.Funding, ct);
        var services = new ServiceCollection();
        services.AddHttpClient("pay", client => client.BaseAddress = new Uri(stack.GateUrl + "/"))
            .AddPaymentHandler(options =>
            {
                options.Signer = new LocalKeySigner(payer.PrivateKey);
                options.SpendPolicy = new SpendPolicy { MaxPerPayment = new AtomicAmount(PutPrice) };
            });
        await using var provider = services.BuildServiceProvider();
        var pay = provider.GetRequiredService<IHttpClientFactory>().CreateClient("pay");
        var key = $"offers/{Guid.NewGuid():N}";
        using (var put = await pay.PutAsync($"api/content/{key}", new StringContent("slow read"), ct))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        using var offered = await stack.Gate.PostAsJsonAsync("api/offers",
            new { routes = new[] { "GET /api/content/{**key}" }, expectedRequests = 10, payer = payer.AddressLower }, ct);
        var answer = await Json(offered, HttpStatusCode.Created);
        var offer = answer.GetProperty("offer");
        Assert.Equal(("10000", 2000L, 50), (offer.GetProperty("deposit").GetString(), offer.GetProperty("sla").GetProperty("latencyMs").GetInt64(),
            offer.GetProperty("sla").GetProperty("latencyCreditPercent").GetInt32()));

        using var opened = await pay.PostAsJsonAsync("api/sessions", new { offer = answer.GetProperty("jws").GetString() }, ct);
        var session = await Json(opened, HttpStatusCode.Created);
        var (id, token) = (session.GetProperty("id").GetString()!, session.GetProperty("token").GetString()!);

        Assert.Equal("9500", await ReadAsync(key + "?delayMs=2600", token, ct));   // over the bound: 1000 − 50%
        Assert.Equal("8500", await ReadAsync(key, token, ct));                    // within it: the offered price

        using (var get = Send(HttpMethod.Get, $"api/sessions/{id}", token))
        {
            var shown = await Json(await stack.Gate.SendAsync(get, ct), HttpStatusCode.OK);
            var sla = shown.GetProperty("sla");
            Assert.Equal(("8500", 2L, 1L, "500"), (shown.GetProperty("balance").GetString(), sla.GetProperty("served").GetInt64(),
                sla.GetProperty("overLatencyBound").GetInt64(), sla.GetProperty("credited").GetString()));
        }
        using (var close = Send(HttpMethod.Post, $"api/sessions/{id}/close", token))
            Assert.Equal("8500", (await Json(await stack.Gate.SendAsync(close, ct), HttpStatusCode.OK)).GetProperty("refunded").GetString());
        Assert.Equal((PaymentAssertions.Funding - PutPrice - (GetPrice / 2) - GetPrice).ToString(CultureInfo.InvariantCulture),
            (await stack.AccountAsync(payer.Address, ct)).Balance);
    }

    async Task<string?> ReadAsync(string path, string token, CancellationToken ct)
    {
        using var request = Send(HttpMethod.Get, "api/content/" + path, token);
        using var response = await stack.Gate.SendAsync(request, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.TryGetValues("Payment-Session-Balance", out var values) ? values.Single() : null;
    }

    static HttpRequestMessage Send(HttpMethod method, string path, string token)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation("Payment-Session", token);
        return request;
    }

    static async Task<JsonElement> Json(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
