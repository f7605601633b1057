using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sessions.ServiceDefaults.Postgres;

namespace Microsoft.Extensions.Hosting;

public static class DatabaseMigrationExtensions
{
    /// <summary>
    /// Applies the SQL migrations embedded in <typeparamref name="TMarker"/>'s assembly (<c>Migrations/NNNN_name.sql</c>)
    /// to the database of <c>ConnectionStrings:&lt;connectionName&gt;</c> at start-up, before the app serves.
    /// </summary>
    public static TBuilder AddDatabaseMigrations<TMarker, TBuilder>(this TBuilder builder, string connectionName,
        Action<DatabaseMigrationOptions>? configure = null) where TBuilder : IHostApplicationBuilder =>
        builder.AddDatabaseMigrations(connectionName, DatabaseMigration.FromAssembly(typeof(TMarker).Assembly), configure);

    /// <inheritdoc cref="AddDatabaseMigrations{TMarker, TBuilder}"/>
    public static IHostApplicationBuilder AddDatabaseMigrations<TMarker>(this IHostApplicationBuilder builder, string connectionName,
        Action<DatabaseMigrationOptions>? configure = null) =>
        builder.AddDatabaseMigrations<TMarker, IHostApplicationBuilder>(connectionName, configure);

    /// <summary>Applies the given migrations to <c>ConnectionStrings:&lt;connectionName&gt;</c> at start-up.</summary>
    public static TBuilder AddDatabaseMigrations<TBuilder>(this TBuilder builder, string connectionName,
        IEnumerable<DatabaseMigration> migrations, Action<DatabaseMigrationOptions>? configure = null) where TBuilder : IHostApplicationBuilder
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionName);
        var list = DatabaseMigration.Ordered(migrations, connectionName);
        var options = new DatabaseMigrationOptions();
        configure?.Invoke(options);
        // A factory registration: one hosted service per database (AddHostedService would keep only one).
        builder.Services.AddSingleton<IHostedService>(services => new DatabaseMigrationHostedService(
            connectionName, list, options,
            services.GetRequiredService<IConfiguration>(), services.GetRequiredService<ILoggerFactory>()));
        return builder;
    }
}
