using System.Net;
using System.Text.Json;
using Npgsql;
using Xunit;

namespace Sessions.Testing.Fuzz;

/// <summary>
/// What every answer to a fuzzed body must be: never a 5xx; an error is problem+json with a stable <c>code</c> (on an MCP
/// endpoint also the SDK's JSON-RPC error with its numeric <c>error.code</c>) and nothing internal (no exception or type name, no
/// stack trace); and nothing written: <see cref="RowsAsync"/> before and after.
/// </summary>
public static class JsonFuzzOracle
{
    static readonly string[] Internals = ["Exception", "System.", "Microsoft.", "   at ", ".cs:line", "LineNumber", "BytePosition"];

    /// <summary>Asserts the answer to case <paramref name="index"/> of <paramref name="fuzz"/> (the message names the seed and body).</summary>
    public static async Task AssertSafeAsync(HttpResponseMessage response, JsonFuzz fuzz, int index, string body, bool jsonRpcErrors = false)
    {
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var status = (int)response.StatusCode;
        var where = $"seed {fuzz.Seed} case {index}: {body} -> {status} {text}";
        Assert.True(status < 500, where);
        foreach (var internals in Internals)
            Assert.False(text.Contains(internals, StringComparison.Ordinal), where);
        if (status < 400 || response.StatusCode == HttpStatusCode.PaymentRequired && response.Content.Headers.ContentType?.MediaType == "application/json")
            return;
        if (jsonRpcErrors && response.Content.Headers.ContentType?.MediaType == "application/json")
        {
            using var message = JsonDocument.Parse(text);
            Assert.True(message.RootElement.TryGetProperty("error", out var error) && error.TryGetProperty("code", out var number)
                && number.ValueKind == JsonValueKind.Number, where);
            return;
        }
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", where);
        using var problem = JsonDocument.Parse(text);
        Assert.True(problem.RootElement.TryGetProperty("code", out var code) && code.GetString() is { Length: > 0 }, where);
    }

    /// <summary>Rows per table of the database's public schema (compare before and after a fuzz run: nothing written).</summary>
    public static async Task<IReadOnlyDictionary<string, long>> RowsAsync(string connectionString)
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancel);
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1", connection))
        await using (var reader = await list.ExecuteReaderAsync(cancel))
            while (await reader.ReadAsync(cancel))
                tables.Add(reader.GetString(0));
        var rows = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM \"{table}\"", connection);
            rows[table] = (long)(await count.ExecuteScalarAsync(cancel))!;
        }
        return rows;
    }
}
