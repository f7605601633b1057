using Npgsql;
using Sessions.Testing.Local;
using Sessions.Testing;

namespace ServiceDefaults.Tests;

public class InfrastructureFixtureTests(InfrastructureFixture infra)
{
    [Fact]
    public async Task Redis_answers_ping()
    {
        Assert.True(await LocalRedisServer.PingAsync(infra.Redis.Port, null, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Each_created_database_is_real_and_separate()
    {
        var a = await infra.CreateDatabaseAsync("fixture");
        var b = await infra.CreateDatabaseAsync("fixture");
        Assert.NotEqual(new NpgsqlConnectionStringBuilder(a).Database, new NpgsqlConnectionStringBuilder(b).Database);

        await using var connection = new NpgsqlConnection(a);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand("SELECT current_database()", connection);
        Assert.Equal(new NpgsqlConnectionStringBuilder(a).Database, await command.ExecuteScalarAsync(TestContext.Current.CancellationToken));
    }
}
