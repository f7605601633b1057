using System.Text;

namespace PaymentGate.Tests.Fuzz;

/// <summary>What the gate-level header fuzz tests share: the header as Kestrel delivers it, and the answer's oracle.</summary>
static class GateFuzz
{
    /// <summary>
    /// The value as Kestrel hands it to the app (the test server hands over anything): valid UTF-8, so a lone surrogate
    /// arrives as U+FFFD, and no NUL, CR or LF (Kestrel answers 400 before any app code runs).
    /// </summary>
    public static string AsDelivered(string header) =>
        new([.. Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(header)).Where(c => c is not ('\0' or '\r' or '\n'))]);

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
