using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Npgsql;
using Sessions.ServiceDefaults.Integrations;

namespace Microsoft.Extensions.Hosting;

// Aspire.Npgsql's shape (AddNpgsqlDataSource / AddKeyedNpgsqlDataSource), so a later swap changes no caller.
// Tracing and metrics come from Npgsql's own "Npgsql" ActivitySource and Meter, which telemetry subscribes to.
public static class NpgsqlExtensions
{
    /// <summary>
    /// A singleton <see cref="NpgsqlDataSource"/> from <c>ConnectionStrings:&lt;connectionName&gt;</c> and a health
    /// check named after the connection (<c>SELECT 1</c>, tag <c>ready</c>).
    /// </summary>
    public static void AddNpgsqlDataSource(this IHostApplicationBuilder builder, string connectionName,
        Action<NpgsqlDataSourceBuilder>? configureDataSourceBuilder = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionName);
        builder.Services.AddSingleton(services => CreateDataSource(services, connectionName, configureDataSourceBuilder));
        AddHealthCheck(builder, connectionName, services => services.GetRequiredService<NpgsqlDataSource>());
    }

    /// <summary>As <see cref="AddNpgsqlDataSource"/>, registered as a keyed service (key = connection name).</summary>
    public static void AddKeyedNpgsqlDataSource(this IHostApplicationBuilder builder, string connectionName,
        Action<NpgsqlDataSourceBuilder>? configureDataSourceBuilder = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionName);
        builder.Services.AddKeyedSingleton(connectionName, (services, _) => CreateDataSource(services, connectionName, configureDataSourceBuilder));
        AddHealthCheck(builder, connectionName, services => services.GetRequiredKeyedService<NpgsqlDataSource>(connectionName));
    }

    /// <summary>
    /// <c>ConnectionStrings:&lt;connectionName&gt;</c>, read when needed (not at registration) so that test hosts may
    /// supply it late; a missing one is an error naming the key and the environment variable.
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

    static NpgsqlDataSource CreateDataSource(IServiceProvider services, string connectionName, Action<NpgsqlDataSourceBuilder>? configure)
    {
        var connectionString = services.GetRequiredService<IConfiguration>().GetRequiredConnectionString(connectionName);
        var dataSourceBuilder = new NpgsqlDataSourceBuilder(connectionString) { Name = connectionName };
        dataSourceBuilder.UseLoggerFactory(services.GetService<ILoggerFactory>());
        configure?.Invoke(dataSourceBuilder);
        return dataSourceBuilder.Build();
    }

    static void AddHealthCheck(IHostApplicationBuilder builder, string connectionName, Func<IServiceProvider, NpgsqlDataSource> dataSource) =>
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            connectionName,
            services => new NpgsqlHealthCheck(dataSource(services)),
            failureStatus: null,
            tags: ["ready"],
            timeout: TimeSpan.FromSeconds(10)));
}
