using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Sessions.ServiceDefaults.Postgres;

/// <summary>
/// One versioned SQL migration, <c>Migrations/NNNN_name.sql</c>. Its checksum (SHA-256 of the SQL with line endings
/// normalised, so a checkout with CRLF does not count as a change) is recorded when applied.
/// </summary>
public sealed partial record DatabaseMigration
{
    public DatabaseMigration(long version, string name, string sql)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(sql);
        Version = version;
        Name = name;
        Sql = sql.ReplaceLineEndings("\n");
        Checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));
    }

    public long Version { get; }
    public string Name { get; }
    public string Sql { get; }
    public string Checksum { get; }

    /// <summary><c>0001_init</c>, as the file is named.</summary>
    public string Id => $"{Version:D4}_{Name}";

    public override string ToString() => Id;

    /// <summary>
    /// The migrations embedded in <paramref name="assembly"/> (<c>&lt;EmbeddedResource Include="Migrations/*.sql" /&gt;</c>),
    /// in version order. Two files with the same version are an error.
    /// </summary>
    public static IReadOnlyList<DatabaseMigration> FromAssembly(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var migrations = new List<DatabaseMigration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = ResourceName().Match(resource);
            if (!match.Success)
                continue;
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            migrations.Add(new DatabaseMigration(long.Parse(match.Groups["version"].Value), match.Groups["name"].Value, reader.ReadToEnd()));
        }
        return Ordered(migrations, assembly.GetName().Name ?? assembly.FullName ?? "assembly");
    }

    internal static IReadOnlyList<DatabaseMigration> Ordered(IEnumerable<DatabaseMigration> migrations, string origin)
    {
        var ordered = migrations.OrderBy(m => m.Version).ToList();
        var duplicate = ordered.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new InvalidOperationException(
                $"Two migrations in {origin} have version {duplicate.Key}: {string.Join(", ", duplicate.Select(m => m.Id))}.");
        return ordered;
    }

    // "Sessions.SessionApi.Migrations.0001_init.sql" (default manifest name) or "Migrations/0001_init.sql" (LogicalName).
    [GeneratedRegex(@"(?:^|[./\\])Migrations[./\\](?<version>\d+)_(?<name>[A-Za-z0-9_\-]+)\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex ResourceName();
}
