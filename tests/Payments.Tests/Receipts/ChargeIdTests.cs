using Sessions.Payments.Receipts;

namespace Sessions.Payments.Tests.Receipts;

public sealed class ChargeIdTests
{
    [Fact]
    public void A_charge_id_is_its_prefix_and_32_hex_digits_and_names_its_receipt()
    {
        var id = ChargeIds.New("req_");

        Assert.Matches("^req_[0-9a-f]{32}$", id);
        Assert.Equal("rcpt_" + id[4..], ReceiptIds.For(id));
    }

    [Fact]
    public async Task Charge_ids_made_later_sort_after_earlier_ones_so_the_indexes_keyed_by_them_grow_at_their_end()
    {
        var earlier = Enumerable.Range(0, 50).Select(_ => ChargeIds.New("pay_")).ToList();
        await Task.Delay(5, TestContext.Current.CancellationToken);
        var later = Enumerable.Range(0, 50).Select(_ => ChargeIds.New("pay_")).ToList();

        Assert.True(string.CompareOrdinal(earlier.Max(StringComparer.Ordinal), later.Min(StringComparer.Ordinal)) < 0);
        // The first 12 digits are the Unix milliseconds (RFC 9562's version 7 layout), the 13th the version.
        var millis = Convert.ToInt64(later[0][4..16], 16);
        Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - millis, 0, 60_000);
        Assert.Equal('7', later[0][16]);
        // The rest is random: 100 ids, 100 different.
        Assert.Equal(100, earlier.Concat(later).Distinct().Count());
    }
}
