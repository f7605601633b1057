using Sessions.SessionApi.Mandates;
using Sessions.SessionApi.Sessions;

namespace SessionApi.Tests.Sessions;

// Amounts in request bodies are the wire form of the one money type (Sessions.Payments.AtomicAmount): the gate sends nothing else,
// and "010000" is not another spelling of 10000.
public sealed class AmountRequestTests
{
    const string Payer = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
    const string SessionId = "ses_0123456789abcdef0123456789abcdef";
    const string AboveMax = "115792089237316195423570985008687907853269984665640564039457584007913129639936";

    [Theory]
    [InlineData("010000")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1e3")]
    [InlineData(" 1")]
    [InlineData(AboveMax)]
    public void Debits_top_ups_charges_deposits_and_limits_refuse_amounts_outside_the_wire_form(string amount)
    {
        // Zero is a pass's request in a fold, and only there.
        Assert.Equal(amount != "0", SessionRequests.Validate(new FoldDebitsRequest([new FoldDebitItem(SessionId, "key-1", amount, null, 1)]), out _)
            .ContainsKey("debits[0].amount"));
        Assert.Contains("amount", SessionRequests.Validate(new TopUpRequest(amount, "pay-1"), out _).Keys);
        Assert.Contains("amount", MandateRequests.Validate(new ChargeRequest(amount, "key-1", null), out _).Keys);
        var open = new OpenSessionRequest("demo", Payer, "prepaid", amount, "pay-1", null, PriceHint: amount);
        var errors = SessionRequests.Validate(open, TimeSpan.FromHours(1), out _);
        Assert.Contains("deposit", errors.Keys);
        Assert.Contains("priceHint", errors.Keys);
    }

    [Fact]
    public void The_wire_form_is_accepted_as_the_amount_it_says()
    {
        Assert.Empty(SessionRequests.Validate(new FoldDebitsRequest([new FoldDebitItem(SessionId, "key-1", "10000", null, 1)]), out var debits));
        Assert.Equal("10000", Assert.Single(debits).Amount.ToString());
        Assert.Empty(SessionRequests.Validate(new TopUpRequest("115792089237316195423570985008687907853269984665640564039457584007913129639935", "pay-1"), out var topUp));
        Assert.Equal("115792089237316195423570985008687907853269984665640564039457584007913129639935", topUp.ToString());
        Assert.Empty(SessionRequests.Validate(new OpenSessionRequest("demo", Payer, "prepaid", "100000", "pay-1", null, "1000"), TimeSpan.FromHours(1), out var open));
        Assert.Equal(("100000", "1000"), (open!.Deposit.ToString(), open.PriceHint.ToString()));
    }
}
