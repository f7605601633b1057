using System.Numerics;
using System.Text.Json;

namespace Sessions.Payments.Tests;

// The one money type: the wire form, dollar prices, display, arithmetic and JSON.
public sealed class AtomicAmountTests
{
    const string MaxText = "115792089237316195423570985008687907853269984665640564039457584007913129639935"; // 2^256-1
    const string AboveMax = "115792089237316195423570985008687907853269984665640564039457584007913129639936";

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("10000")]
    [InlineData("9007199254740993")] // 2^53+1: no double anywhere
    [InlineData(MaxText)]
    public void Wire_form_round_trips(string text)
    {
        Assert.True(AtomicAmount.TryParse(text, out var amount, out var error), error);
        Assert.Equal(BigInteger.Parse(text), amount.Value);
        Assert.Equal(text, amount.ToString());
        Assert.Equal(amount, AtomicAmount.Parse(text));
    }

    [Theory]
    [InlineData(null, "empty")]
    [InlineData("", "empty")]
    [InlineData("007", "leading zero")]
    [InlineData("00", "leading zero")]
    [InlineData("-1", "decimal digits")]
    [InlineData("+1", "decimal digits")]
    [InlineData("1e3", "decimal digits")]
    [InlineData(" 1", "decimal digits")]
    [InlineData("1 ", "decimal digits")]
    [InlineData("1.0", "decimal digits")]
    [InlineData("1,000", "decimal digits")]
    [InlineData("0x10", "decimal digits")]
    [InlineData("٣", "decimal digits")] // a non-ASCII digit
    [InlineData("$1", "decimal digits")] // dollars are a price, not the wire form
    [InlineData(AboveMax, "overflows")]
    [InlineData("1000000000000000000000000000000000000000000000000000000000000000000000000000000", "more than 78 digits")]
    public void Anything_else_is_refused_with_the_reason(string? text, string reason)
    {
        Assert.False(AtomicAmount.TryParse(text, out var amount, out var error));
        Assert.Contains(reason, error);
        Assert.Equal(AtomicAmount.Zero, amount);
        Assert.Throws<FormatException>(() => AtomicAmount.Parse(text));
    }

    [Fact]
    public void A_huge_input_is_refused_without_quoting_all_of_it()
    {
        Assert.False(AtomicAmount.TryParse(new string('9', 100_000), out _, out var error));
        Assert.True(error!.Length < 300, error);
    }

    [Fact]
    public void Uint256_fields_that_are_not_amounts_share_the_grammar()
    {
        Assert.True(AtomicAmount.TryParseUInt256("1800000000", out var seconds));
        Assert.Equal(new BigInteger(1_800_000_000), seconds);
        Assert.False(AtomicAmount.TryParseUInt256("01800000000", out _));
        Assert.False(AtomicAmount.TryParseUInt256(AboveMax, out _));
    }

    [Theory]
    [InlineData("$0.01", "10000")]
    [InlineData("$0.001", "1000")]
    [InlineData("$1.00", "1000000")]
    [InlineData("$0.009", "9000")]
    [InlineData("$1", "1000000")]
    [InlineData("$1.5", "1500000")]
    [InlineData("$0.000001", "1")]
    [InlineData("$0", "0")]
    [InlineData("$00.50", "500000")] // whole dollars may carry leading zeros: configuration, not the wire
    [InlineData("$123456789.123456", "123456789123456")]
    [InlineData("$115792089237316195423570985008687907853269984665640564039457584007913129", "115792089237316195423570985008687907853269984665640564039457584007913129000000")]
    [InlineData("10000", "10000")]
    [InlineData("0", "0")]
    [InlineData(MaxText, MaxText)]
    public void Prices_convert_to_atomic_units_exactly(string price, string atomic)
    {
        Assert.True(AtomicAmount.TryParsePrice(price, 6, out var amount, out var error), error);
        Assert.Equal(BigInteger.Parse(atomic), amount.Value);
        Assert.Equal(amount, AtomicAmount.ParsePrice(price, 6));
    }

    [Theory]
    [InlineData("-$0.01", "negative")]
    [InlineData("$-0.01", "negative")]
    [InlineData("-10000", "negative")]
    [InlineData("$0.0000001", "decimals")]
    [InlineData("$0.0100000", "decimals")]
    [InlineData("100.5", "whole number")]
    [InlineData("", "empty")]
    [InlineData(null, "empty")]
    [InlineData("$", "not a number")]
    [InlineData("$.5", "not a number")]
    [InlineData("$1.", "not a number")]
    [InlineData("$1e3", "not a number")]
    [InlineData("1e3", "not a number")]
    [InlineData("$1,000", "not a number")]
    [InlineData(" $1", "not a number")]
    [InlineData("$ 1", "not a number")]
    [InlineData("+5", "not a number")]
    [InlineData("0x10", "not a number")]
    [InlineData("USD 1", "not a number")]
    [InlineData("$٣", "not a number")]
    [InlineData("007", "leading zero")] // atomic prices are the wire form
    [InlineData(AboveMax, "overflows")]
    [InlineData("$115792089237316195423570985008687907853269984665640564039457584007913130", "overflows")] // just above 2^256-1 once scaled
    [InlineData("$1157920892373161954235709850086879078532699846656405640394575840079131299", "overflows")]
    [InlineData("1000000000000000000000000000000000000000000000000000000000000000000000000000000", "78 digits")]
    public void Bad_prices_are_refused_with_a_clear_message(string? price, string messageFragment)
    {
        Assert.False(AtomicAmount.TryParsePrice(price, 6, out _, out var error));
        Assert.Contains(messageFragment, error);
    }

    [Fact]
    public void Price_decimals_follow_the_asset()
    {
        Assert.Equal(new BigInteger(10_000_000_000_000_000), AtomicAmount.ParsePrice("$0.01", 18).Value);
        Assert.Equal(BigInteger.One, AtomicAmount.ParsePrice("$1", 0).Value);
        Assert.Throws<FormatException>(() => AtomicAmount.ParsePrice("$0.1", 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => AtomicAmount.TryParsePrice("$1", -1, out _, out _));
    }

    [Theory]
    [InlineData("1000", "$0.001")]
    [InlineData("10000", "$0.01")]
    [InlineData("1000000", "$1.00")]
    [InlineData("1500000", "$1.50")]
    [InlineData("1234567", "$1.234567")]
    [InlineData("1", "$0.000001")]
    [InlineData("0", "$0.00")]
    public void Dollars_are_formatted_without_floating_point_and_parse_back(string atomic, string dollars)
    {
        var amount = AtomicAmount.Parse(atomic);
        Assert.Equal(dollars, amount.ToDollars(6));
        Assert.Equal(amount, AtomicAmount.ParsePrice(dollars, 6));
    }

    [Fact]
    public void Comparison_and_arithmetic_are_checked()
    {
        var small = AtomicAmount.Parse("1000");
        var large = AtomicAmount.Parse("10000");
        Assert.True(small < large && large > small && small <= AtomicAmount.Parse("1000") && large >= small);
        Assert.Equal(-1, small.CompareTo(large));
        Assert.Equal(AtomicAmount.Parse("11000"), small + large);
        Assert.Equal(AtomicAmount.Parse("9000"), large - small);
        Assert.Throws<OverflowException>(() => small - large);
        Assert.Throws<OverflowException>(() => AtomicAmount.MaxValue + AtomicAmount.Parse("1"));
        Assert.Equal(AtomicAmount.MaxValue, AtomicAmount.MaxValue + AtomicAmount.Zero);
        Assert.Throws<OverflowException>(() => (AtomicAmount)BigInteger.MinusOne);
        Assert.Throws<OverflowException>(() => new AtomicAmount(AtomicAmount.MaxUInt256 + 1));
        BigInteger widened = large;
        Assert.Equal(new BigInteger(10000), widened);
        Assert.True(default(AtomicAmount).IsZero);
    }

    sealed record Body(AtomicAmount Amount, AtomicAmount? Limit);

    [Fact]
    public void Json_carries_the_wire_string()
    {
        var json = JsonSerializer.Serialize(new Body(AtomicAmount.MaxValue, null));
        Assert.Equal($"{{\"Amount\":\"{MaxText}\",\"Limit\":null}}", json);
        Assert.Equal(new Body(AtomicAmount.MaxValue, null), JsonSerializer.Deserialize<Body>(json));
        Assert.Equal(AtomicAmount.Parse("10000"), JsonSerializer.Deserialize<Body>("""{"Amount":"1","Limit":"10000"}""")!.Limit);
    }

    [Theory]
    [InlineData("""{"Amount":10000}""")]   // a JSON number: no contract carries amounts as numbers
    [InlineData("""{"Amount":"007"}""")]
    [InlineData("""{"Amount":"-1"}""")]
    [InlineData("""{"Amount":"1e3"}""")]
    [InlineData("""{"Amount":null}""")]
    [InlineData("{\"Amount\":\"" + AboveMax + "\"}")]
    public void Json_refuses_anything_but_the_wire_string(string json)
    {
        var exception = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Body>(json));
        Assert.DoesNotContain("Sessions.", exception.Message);
    }
}
