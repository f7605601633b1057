namespace Interop.Tests;

public partial class CliTests
{
    /// <summary>Issue 20 from the shell: <c>session offer</c>, <c>session open --offer</c>, a slow read, <c>session show</c> with the credit.</summary>
    [Fact]
    public async Task Session_offer_opens_a_session_on_its_terms_and_show_prints_the_sla_credit_of_a_slow_read()
    {
        var ct = TestContext.Current.CancellationToken;
        var payer = await stack.FundedWalletAsync(Funding, ct);
        var home = Directory.CreateTempSubdirectory("sessions-cli-offer-");
        try
        {
            string[] wallet = ["--gate", stack.GateUrl, "--key", payer.PrivateKey, "--state", Path.Combine(home.FullName, "s.json")];
            var put = await JsonAsync(ct, [.. wallet, "pay", "/api/content/cli/offer", "--method", "PUT", "--data", "slow"]);
            Assert.Equal(200, put.GetProperty("status").GetInt32());

            var offer = await JsonAsync(ct, [.. wallet, "session", "offer", "--requests", "10", "--route", "GET /api/content/{**key}"]);
            Assert.Equal("10000", offer.GetProperty("offer").GetProperty("deposit").GetString());
            var opened = await JsonAsync(ct, [.. wallet, "session", "open", "--offer", offer.GetProperty("jws").GetString()!]);
            var id = opened.GetProperty("session").GetProperty("id").GetString()!;
            Assert.Equal("10000", opened.GetProperty("payment").GetProperty("amount").GetString());

            var read = await JsonAsync(ct, [.. wallet, "pay", "/api/content/cli/offer?delayMs=2600", "--session", id]);
            Assert.Equal((200, "9500"), (read.GetProperty("status").GetInt32(), read.GetProperty("session").GetProperty("balance").GetString()));

            var show = await RunAsync(ct, [.. wallet, "session", "show", id]);
            Assert.True(show.ExitCode == 0, show.Error);
            Assert.Matches(@"\nsla\s+50% back over 2000 ms, failed requests not charged\n", show.Output);
            Assert.Matches(@"\nmeasured\s+1 served, 0 failed \(not charged\), 1 over the bound", show.Output);
            Assert.Matches(@"\ncredited\s+500 in 1 credits", show.Output);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }
}
