using Npgsql;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Server-side preparation of the statements a service runs again and again (the money path's few SQL texts), for every
/// service's data source: <c>builder.AddNpgsqlDataSource("gatedb", configureDataSourceBuilder: StatementPreparation.Configure)</c>.
/// Without it Postgres parses and plans each statement anew, and the connection reset on every return to the pool
/// (<c>DISCARD ALL</c>) throws away the plans of the SQL functions too: measured on the paid route (a fresh x402 payment per
/// request, local facilitator), Postgres CPU per request fell from 1.9 to 1.2 ms and the route's throughput rose by a quarter
/// (docs/benchmarks.md). Npgsql keeps prepared statements across pool returns and still resets session state.
/// </summary>
public static class StatementPreparation
{
    /// <summary>More than the distinct statements any one service runs on its hot paths.</summary>
    public const int MaxAutoPrepare = 64;

    /// <summary>A statement is prepared on its second run on a connection (one-off statements are not).</summary>
    public const int AutoPrepareMinUsages = 2;

    /// <summary>Turns automatic preparation on, unless the connection string sets <c>Max Auto Prepare</c> itself.</summary>
    public static void Configure(NpgsqlDataSourceBuilder builder)
    {
        if (builder.ConnectionStringBuilder.MaxAutoPrepare != 0)
            return;
        builder.ConnectionStringBuilder.MaxAutoPrepare = MaxAutoPrepare;
        builder.ConnectionStringBuilder.AutoPrepareMinUsages = AutoPrepareMinUsages;
    }
}
