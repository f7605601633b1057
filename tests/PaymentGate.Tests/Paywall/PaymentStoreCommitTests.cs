using Npgsql;
using Sessions.PaymentGate.Paywall;
using Sessions.Testing;

namespace PaymentGate.Tests.Paywall;

// PaymentStore's claim (local ledger) and served mark commit without waiting for their WAL flush: only their own transaction.
public sealed class PaymentStoreCommitTests(InfrastructureFixture infrastructure)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_unflushed_write_turns_synchronous_commit_off_for_its_own_transaction_only()
    {
        // One pooled connection: the next command runs on the very connection the unflushed write used. The test server runs
        // without synchronous commits; its sessions here start with them on, as a durable server's do.
        var builder = new NpgsqlConnectionStringBuilder(await infrastructure.CreateDatabaseAsync("gatedb"))
        {
            MaxPoolSize = 1, Options = "-c synchronous_commit=on",
        };
        await using var database = NpgsqlDataSource.Create(builder.ConnectionString);

        await using (var batch = PaymentStore.Unflushed(database, unflushed: true, "SELECT current_setting('synchronous_commit')"))
        await using (var reader = await batch.ExecuteReaderAsync(Ct))
        {
            await reader.NextResultAsync(Ct);
            Assert.True(await reader.ReadAsync(Ct));
            Assert.Equal("off", reader.GetString(0));
        }
        await using (var flushed = PaymentStore.Unflushed(database, unflushed: false, "SELECT current_setting('synchronous_commit')"))
            Assert.Equal("on", await flushed.ExecuteScalarAsync(Ct));
        await using var after = database.CreateCommand("SELECT current_setting('synchronous_commit')");
        Assert.Equal("on", await after.ExecuteScalarAsync(Ct));
    }
}
