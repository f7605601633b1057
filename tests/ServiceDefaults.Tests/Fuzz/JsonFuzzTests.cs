using Sessions.Testing.Fuzz;

namespace ServiceDefaults.Tests.Fuzz;

// The shared mutator itself: total (never throws) and reproducible (a failing fuzz case is found again from its seed).
public sealed class JsonFuzzTests
{
    static readonly string[] Valid = ["""{"deposit":"100000","ttlSeconds":3600,"nested":{"name":"a","list":[1,"b",null]}}""", """{"amount":"5"}""", "[]"];

    [Fact]
    public void The_same_seed_gives_the_same_cases_and_every_kind_of_case_occurs()
    {
        var first = new JsonFuzz(7).Cases(Valid, 20_000).ToList();
        var again = new JsonFuzz(7).Cases(Valid, 20_000).ToList();
        var other = new JsonFuzz(8).Cases(Valid, 20_000).ToList();

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Contains(first, c => c.Contains("\"deposit\":\"100000\"", StringComparison.Ordinal));       // valid parts kept
        Assert.Contains(first, c => c.Contains("\"DEPOSIT\"", StringComparison.Ordinal));                   // case variants
        Assert.Contains(first, c => c.Split("\"amount\"").Length > 2);                                       // repeated members
        Assert.Contains(first, c => c.Contains("[[[[[[[[[[", StringComparison.Ordinal));                    // deep nesting
        Assert.True(first.Distinct().Count() > 10_000);
    }
}
