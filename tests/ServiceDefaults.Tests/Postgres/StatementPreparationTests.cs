using Microsoft.Extensions.Hosting;
using Npgsql;
using ServiceDefaults.Tests.Support;
using Sessions.Testing;

namespace ServiceDefaults.Tests.Postgres;

public sealed class StatementPreparationTests(InfrastructureFixture infra)
{
    static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    const string Statement = "SELECT $1::int + 1";

    async Task<NpgsqlDataSource> DataSourceAsync(string database, string extra = "")
    {
        // One physical connection, so a reopened connection is the one the statement was prepared on.
        var builder = new NpgsqlDataSourceBuilder(await infra.CreateDatabaseAsync(database) + ";Maximum Pool Size=1" + extra);
        StatementPreparation.Configure(builder);
        return builder.Build();
    }

    static async Task<int> RunAsync(NpgsqlConnection connection, int value)
    {
        await using var command = new NpgsqlCommand(Statement, connection) { Parameters = { new() { Value = value } } };
        return (int)(await command.ExecuteScalarAsync(Cancellation))!;
    }

    static async Task<long> PreparedCountAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1::int + 1'", connection);
        return (long)(await command.ExecuteScalarAsync(Cancellation))!;
    }

    [Fact]
    public async Task A_repeated_statement_is_prepared_and_stays_prepared_across_pool_returns_while_session_state_is_reset()
    {
        await using var dataSource = await DataSourceAsync("prepare");
        await using (var connection = await dataSource.OpenConnectionAsync(Cancellation))
        {
            Assert.Equal(2, await RunAsync(connection, 1));
            Assert.Equal(0, await PreparedCountAsync(connection));   // once: not prepared
            Assert.Equal(3, await RunAsync(connection, 2));
            Assert.Equal(1, await PreparedCountAsync(connection));   // twice: prepared
            await using var set = new NpgsqlCommand("SET statement_timeout = '4321ms'", connection);
            await set.ExecuteNonQueryAsync(Cancellation);
        }

        await using (var connection = await dataSource.OpenConnectionAsync(Cancellation))
        {
            Assert.Equal(1, await PreparedCountAsync(connection));
            Assert.Equal(4, await RunAsync(connection, 3));
            await using var show = new NpgsqlCommand("SHOW statement_timeout", connection);
            Assert.Equal("0", await show.ExecuteScalarAsync(Cancellation));   // the pool's reset still ran
        }
    }

    [Fact]
    public async Task A_connection_string_that_sets_automatic_preparation_keeps_its_value()
    {
        var builder = new NpgsqlDataSourceBuilder(await infra.CreateDatabaseAsync("prepare-own") + ";Max Auto Prepare=5;Auto Prepare Min Usages=7");

        StatementPreparation.Configure(builder);

        Assert.Equal(5, builder.ConnectionStringBuilder.MaxAutoPrepare);
        Assert.Equal(7, builder.ConnectionStringBuilder.AutoPrepareMinUsages);
    }
}
