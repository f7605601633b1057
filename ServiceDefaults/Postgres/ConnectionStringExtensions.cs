using Microsoft.Extensions.Configuration;

namespace Microsoft.Extensions.Hosting;

public static class ConnectionStringExtensions
{
    /// <summary>
    /// <c>ConnectionStrings:&lt;connectionName&gt;</c>, read when needed (the migrations at start-up); a missing one is an
    /// error naming the key and the environment variable.
    /// </summary>
    public static string GetRequiredConnectionString(this IConfiguration configuration, string connectionName)
    {
        var connectionString = configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new InvalidOperationException(
                $"Connection string '{connectionName}' is missing: set configuration key 'ConnectionStrings:{connectionName}' " +
                $"(environment variable ConnectionStrings__{connectionName}), as an AppHost does with WithReference.");
        return connectionString;
    }
}
