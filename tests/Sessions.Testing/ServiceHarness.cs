using System.Net;
using System.Text.Json;
using Npgsql;
using Xunit;

namespace Sessions.Testing;

/// <summary>
/// One service in-process on its own test database with the clock the test controls, and what every service's harness
/// does with them: a client, the JSON of an answer with its status asserted, SQL straight on the database. A service's
/// harness derives one and adds the requests it makes (signed as the gate, as an operator…).
/// </summary>
public abstract class ServiceHarness<TProgram> : IAsyncDisposable where TProgram : class
{
    readonly ServiceFactory<TProgram> _factory;

    protected ServiceHarness(string connectionString, IReadOnlyDictionary<string, string?> settings, TimeProvider clock)
    {
        ConnectionString = connectionString;
        _factory = new ServiceFactory<TProgram>(settings, clock);
        Client = _factory.CreateClient();   // starts the host, its background services with it
    }

    public string ConnectionString { get; }
    public HttpClient Client { get; }
    public IServiceProvider Services => _factory.Services;

    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public ValueTask DisposeAsync()
    {
        Client.Dispose();
        return _factory.DisposeAsync();
    }

    /// <summary>Asserts the status (the body is in the message when it differs) and returns the JSON body (default when empty).</summary>
    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True(expected == response.StatusCode, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] values)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
        return (T)(await command.ExecuteScalarAsync(Cancel))!;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Cancel);
    }
}

public static class JsonElementExtensions
{
    public static string Str(this JsonElement element, string name) => element.GetProperty(name).GetString()!;
}
