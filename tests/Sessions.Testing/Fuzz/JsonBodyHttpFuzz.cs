using System.Text;
using Xunit;

namespace Sessions.Testing.Fuzz;

/// <summary>
/// Sends a seeded sample of fuzzed JSON bodies to one endpoint through the service's whole pipeline and holds every answer
/// to <see cref="JsonFuzzOracle"/> (<c>jsonRpcErrors</c>: an MCP endpoint, whose errors are JSON-RPC errors); the caller compares <see cref="JsonFuzzOracle.RowsAsync"/> before and after.
/// </summary>
public static class JsonBodyHttpFuzz
{
    public static async Task RunAsync(HttpClient client, HttpMethod method, string path, IReadOnlyList<string> valid, int seed, int count,
        Action<HttpRequestMessage>? prepare = null, bool jsonRpcErrors = false)
    {
        var fuzz = new JsonFuzz(seed);
        var index = 0;
        foreach (var body in fuzz.Cases(valid, count))
        {
            using var request = new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            prepare?.Invoke(request);
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            await JsonFuzzOracle.AssertSafeAsync(response, fuzz, index++, body, jsonRpcErrors);
        }
    }
}
