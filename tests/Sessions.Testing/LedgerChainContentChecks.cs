using Npgsql;
using Sessions.ServiceDefaults.Ledger;
using Xunit;

namespace Sessions.Testing;

public static class LedgerChainContentChecks
{
    /// <summary>
    /// Every chained row's content against the text Postgres gives for <c>jsonb_build_object(...)::text</c> of the same
    /// values: the chainer builds it in C# (<see cref="LedgerChainContent"/>), and entries chained when Postgres built it
    /// must keep verifying. Returns how many entries were compared.
    /// </summary>
    public static async Task<int> AssertContentIsPostgresJsonbTextAsync(string connectionString, LedgerChainOptions options)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        var compared = 0;
        foreach (var source in options.Sources)
        {
            var kept = source.Content.Where(f => !f.OmitWhenNull).Select(f => $"'{f.Key}', {f.Sql}");
            var omitted = source.Content.Where(f => f.OmitWhenNull)
                .Select(f => $" || CASE WHEN ({f.Sql}) IS NULL THEN '{{}}'::jsonb ELSE jsonb_build_object('{f.Key}', {f.Sql}) END");
            var reference = $"(jsonb_build_object({string.Join(", ", kept)}){string.Concat(omitted)})::text";
            await using var select = new NpgsqlCommand($"""
                SELECT e.position, e.content, r.reference FROM ledger_chain e
                JOIN (SELECT {source.IdColumn}::text AS rid, {source.XidColumn} AS rxid, {reference} AS reference FROM {source.Table}) r
                  ON e.source = '{source.Name}' AND e.row_id = r.rid AND e.row_xid = r.rxid
                """, connection);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                Assert.Equal(reader.GetString(2), reader.GetString(1));
                compared++;
            }
        }
        return compared;
    }
}
