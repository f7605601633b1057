namespace PaymentGate.Tests.Fuzz;

/// <summary>The oracle of every answer in the gate-level header fuzz tests.</summary>
static class GateFuzz
{
    /// <summary>Never a 5xx, and never a stack trace or an internal type name in the body.</summary>
    public static async Task AssertAnsweredAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode}: {body}");
        Assert.DoesNotContain("   at ", body);
        Assert.DoesNotContain("System.", body);
        Assert.DoesNotContain("Sessions.", body);
    }
}
