using System.Net;
using System.Text.Json;
using Npgsql;
using Sessions.PaymentGate.Sessions;
using Sessions.Testing;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Sessions;

// One payment header sent many times at once (a client retrying, or someone replaying a captured header): every copy gets
// the first answer (same session, same token, same balance) or 409 payment-in-progress while the first is still running.
public sealed class SessionPaymentRepeatTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const int Rounds = 50;
    const int Copies = 20;
    SessionGateHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _gate = await SessionGateHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    [Fact]
    public async Task Twenty_identical_session_open_headers_at_once_give_one_session_and_one_token_in_each_of_50_rounds()
    {
        const long deposit = 5000;
        var payer = await _gate.FundedPayerAsync(Rounds * deposit);
        var body = new { deposit = deposit.ToString() };
        var tokens = new HashSet<string>();
        for (var round = 0; round < Rounds; round++)
        {
            var payment = await _gate.PayAsync(payer, "/api/sessions", body, deposit.ToString());
            var answers = await Task.WhenAll(Enumerable.Range(0, Copies).Select(_ => AnswerAsync(_gate.PostJsonAsync("/api/sessions", body, payment))));

            var opened = Opened(answers, HttpStatusCode.Created, round);
            var sessions = opened.Select(a => (Id: a.Json.GetProperty("id").GetString(), Token: a.Json.GetProperty("token").GetString(), a.TokenHeader)).Distinct().ToList();
            Assert.True(sessions.Count == 1, $"round {round}: {string.Join(" | ", sessions)}");
            var (id, token, header) = sessions[0];
            Assert.Equal(token, header);
            Assert.True(tokens.Add(token!), $"round {round}: token of an earlier round");
            Assert.Single(opened.Select(a => a.Text).Distinct());   // identical answers, vault and all

            Assert.Equal(round + 1L, await SessionsOfAsync(payer.Lower));
            Assert.Equal(1L, await _gate.LedgerCountAsync(id!, "deposit"));
            using var get = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{id}", token);
            Assert.Equal(deposit.ToString(), (await JsonAsync(get, HttpStatusCode.OK)).GetProperty("balance").GetString());
        }
        Assert.Equal(0, await _gate.BalanceAsync(payer.Lower));   // each payment moved money once
    }

    [Fact]
    public async Task Twenty_identical_top_up_headers_at_once_are_applied_once_and_answered_identically_in_each_of_50_rounds()
    {
        const long amount = 1000;
        var payer = await _gate.FundedPayerAsync(10 * GetPrice + Rounds * amount);
        var (id, token, _) = await _gate.OpenAsync(payer, 10 * GetPrice);
        var body = new { amount = amount.ToString() };
        for (var round = 0; round < Rounds; round++)
        {
            var payment = await _gate.PayAsync(payer, $"/api/sessions/{id}/topup", body, amount.ToString());
            var answers = await Task.WhenAll(Enumerable.Range(0, Copies).Select(_ => AnswerAsync(_gate.PostJsonAsync($"/api/sessions/{id}/topup", body, payment))));

            var applied = Opened(answers, HttpStatusCode.OK, round);
            Assert.True(applied.Select(a => a.Text).Distinct().Count() == 1, $"round {round}: {string.Join(" | ", applied.Select(a => a.Text).Distinct())}");
            Assert.Equal((10 * GetPrice + (round + 1) * amount).ToString(), applied[0].Json.GetProperty("balance").GetString());
            Assert.Equal(round + 1L, await _gate.LedgerCountAsync(id, "topup"));
        }
        using var get = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{id}", token);
        Assert.Equal((10 * GetPrice + Rounds * amount).ToString(), (await JsonAsync(get, HttpStatusCode.OK)).GetProperty("balance").GetString());
        Assert.Equal(0, await _gate.BalanceAsync(payer.Lower));
    }

    [Fact]
    public async Task A_top_up_header_sent_again_later_answers_the_first_answer_even_after_the_session_was_spent_from()
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, token, _) = await _gate.OpenAsync(payer, 10 * GetPrice);
        var body = new { amount = "5000" };
        var payment = await _gate.PayAsync(payer, $"/api/sessions/{id}/topup", body, "5000");
        using var first = await _gate.PostJsonAsync($"/api/sessions/{id}/topup", body, payment);
        var firstText = await first.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        using (var spend = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/a", token))
            Assert.Equal(HttpStatusCode.OK, spend.StatusCode);
        using var again = await _gate.PostJsonAsync($"/api/sessions/{id}/topup", body, payment);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(firstText, await again.Content.ReadAsStringAsync(Ct));
        Assert.Equal(1L, await _gate.LedgerCountAsync(id, "topup"));
    }

    [Fact]
    public async Task A_copy_sent_while_the_first_is_still_opening_the_session_gets_409_payment_in_progress_and_afterwards_the_same_answer()
    {
        var payer = await _gate.FundedPayerAsync();
        var body = new { deposit = "5000" };
        var payment = await _gate.PayAsync(payer, "/api/sessions", body, "5000");
        using var reached = new SemaphoreSlim(0);
        using var release = new ManualResetEventSlim();
        // The first request is held where it asks SessionApi to open the session: settled, its action running.
        _gate.SessionApiLink.OnSend = request =>
        {
            if (request.RequestUri!.AbsolutePath != "/internal/sessions") return;
            reached.Release();
            release.Wait(TimeSpan.FromSeconds(30));
        };
        var first = AnswerAsync(_gate.PostJsonAsync("/api/sessions", body, payment));
        Assert.True(await reached.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        _gate.SessionApiLink.OnSend = null;

        var copy = await AnswerAsync(_gate.PostJsonAsync("/api/sessions", body, payment));
        Assert.True(copy.Status == HttpStatusCode.Conflict, copy.Text);
        Assert.Equal(("payment-in-progress", "1"), (copy.Json.GetProperty("code").GetString(), copy.RetryAfter));

        release.Set();
        var opened = await first;
        Assert.True(opened.Status == HttpStatusCode.Created, opened.Text);
        var again = await AnswerAsync(_gate.PostJsonAsync("/api/sessions", body, payment));
        Assert.Equal((HttpStatusCode.Created, opened.Text, opened.TokenHeader), (again.Status, again.Text, again.TokenHeader));
        Assert.Equal(1L, await SessionsOfAsync(payer.Lower));
        Assert.Equal(1_000_000 - 5000, await _gate.BalanceAsync(payer.Lower));
    }

    sealed record Answer(HttpStatusCode Status, string Text, JsonElement Json, string? TokenHeader, string? RetryAfter);

    static async Task<Answer> AnswerAsync(Task<HttpResponseMessage> sending)
    {
        using var response = await sending;
        var text = await response.Content.ReadAsStringAsync(Ct);
        return new Answer(response.StatusCode, text, JsonDocument.Parse(text).RootElement.Clone(), Header(response, SessionSpending.TokenHeader),
            response.Headers.RetryAfter?.ToString());
    }

    /// <summary>Every answer is <paramref name="success"/> or 409 payment-in-progress, and at least one is a success.</summary>
    static List<Answer> Opened(Answer[] answers, HttpStatusCode success, int round)
    {
        var summary = $"round {round}: " + string.Join(", ", answers.GroupBy(a => (int)a.Status).Select(g => $"{g.Key}x{g.Count()}"))
            + " " + answers.FirstOrDefault(a => a.Status != success && a.Status != HttpStatusCode.Conflict)?.Text;
        foreach (var answer in answers.Where(a => a.Status != success))
        {
            Assert.True(answer.Status == HttpStatusCode.Conflict, summary);
            Assert.Equal(("payment-in-progress", "1"), (answer.Json.GetProperty("code").GetString(), answer.RetryAfter));
        }
        var succeeded = answers.Where(a => a.Status == success).ToList();
        Assert.True(succeeded.Count > 0, summary);
        return succeeded;
    }

    async Task<long> SessionsOfAsync(string payer)
    {
        await using var connection = new NpgsqlConnection(_gate.SessionsDatabase);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM sessions WHERE payer = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = payer });
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }
}
