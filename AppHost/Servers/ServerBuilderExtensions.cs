using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sessions.AppHost.State;

namespace Sessions.AppHost.Servers;

/// <summary>
/// Redis and Postgres as Aspire's containers where a container runtime is available (and always in the manifest),
/// otherwise as local <c>redis-server</c>/<c>postgres</c> processes with the same connection strings and properties.
/// <see cref="ServerMode"/> says which and why.
/// </summary>
public static class ServerBuilderExtensions
{
    const string RedisDurability = "--appendonly yes --appendfsync always";

    public static IResourceBuilder<IResourceWithConnectionString> AddRedisServer(this IDistributedApplicationBuilder builder, string name)
    {
        if (ServerMode.Of(builder).UseContainers)
        {
            // Aspire runs "/bin/sh -c 'redis-server ...'": the append-only file, fsync'd before each reply, goes on that line
            // (session debits are decided in Redis: docs/design/session-debits.md).
            var container = builder.AddRedis(name).WithDataVolume()
                .WithArgs(context => context.Args[^1] = $"{context.Args[^1]} {RedisDurability}");
            return builder.Configuration["AppHost:RedisImage"] is { Length: > 0 } image ? container.WithImage(ImageName(image), ImageTag(image)) : container;
        }

        var state = StateFolder.Of(builder);
        var password = builder.AddParameter($"{name}-password", new GenerateParameterDefault { MinLength = 22, Special = false }, secret: true);
        var redis = new LocalRedisResource(name, ServerExecutables.Find("redis-server", ServerExecutables.RedisHint), state.Root, password.Resource);
        var port = ServerExecutables.FreePort();
        var dataDirectory = state.PathFor("redis-data");

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(redis, async (_, ct) => connectionString = await redis.ConnectionStringExpression.GetValueAsync(ct));
        builder.Services.AddHealthChecks().AddRedis(_ => connectionString ?? throw new InvalidOperationException("Connection string is unavailable"), name: $"{name}_check");

        return builder.AddResource(redis)
            .WithEndpoint(port: port, targetPort: port, name: LocalRedisResource.EndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                // Both loopbacks, so that "localhost" works whichever address a client tries first ("-" makes ::1 optional).
                context.Args.Add("--port"); context.Args.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
                foreach (var arg in new[] { "--bind", "127.0.0.1", "-::1", "--protected-mode", "no" }) context.Args.Add(arg);
                context.Args.Add("--requirepass"); context.Args.Add(password.Resource);
                // A data volume: the append-only file in .state/redis-data, fsync'd before each reply (session debits are decided in
                // Redis: docs/design/session-debits.md); ephemeral state keeps nothing.
                string[] persistence = state.Ephemeral
                    ? ["--save", "", "--appendonly", "no"]
                    : ["--dir", Directory.CreateDirectory(dataDirectory).FullName, .. RedisDurability.Split(' '), "--save", ""];
                foreach (var arg in persistence) context.Args.Add(arg);
            })
            .WithHealthCheck($"{name}_check")
            .WithIconName("Database");
    }

    public static IResourceBuilder<IResourceWithConnectionString> AddPostgresServer(this IDistributedApplicationBuilder builder, string name)
    {
        if (ServerMode.Of(builder).UseContainers)
        {
            var container = builder.AddPostgres(name).WithDataVolume();
            return builder.Configuration["AppHost:PostgresImage"] is { Length: > 0 } image ? container.WithImage(ImageName(image), ImageTag(image)) : container;
        }

        var state = StateFolder.Of(builder);
        var password = builder.AddParameter($"{name}-password", new GenerateParameterDefault { MinLength = 22, Special = false }, secret: true);
        var dataDirectory = state.PathFor("postgres-data");
        var (command, prefix) = ServerExecutables.AsPostgresUser(ServerExecutables.Find("postgres", ServerExecutables.PostgresHint));
        var postgres = new LocalPostgresResource(name, command, state.Root, password.Resource, dataDirectory);
        var port = ServerExecutables.FreePort();

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(postgres, async (_, ct) => connectionString = await postgres.ConnectionStringExpression.GetValueAsync(ct));
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(postgres, async (_, ct) =>
            await ServerExecutables.InitializePostgresAsync(dataDirectory, (await password.Resource.GetValueAsync(ct))!, state.Ephemeral, ct));
        // As Aspire's AddPostgres: CREATE DATABASE for every AddDatabase once the server is ready.
        builder.Eventing.Subscribe<ResourceReadyEvent>(postgres, async (_, ct) =>
        {
            foreach (var database in postgres.Databases.Values)
                await LocalPostgresDatabases.CreateAsync(connectionString!, database, ct);
        });
        builder.Services.AddHealthChecks().AddNpgSql(
            _ => (connectionString ?? throw new InvalidOperationException("Connection string is unavailable")) + ";Database=postgres", name: $"{name}_check");

        string[] settings =
        [
            "-D", dataDirectory, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", "listen_addresses=localhost",
            // TCP only: a Unix socket path can exceed the 107-byte limit in deep folders.
            "-c", "unix_socket_directories=",
            "-c", "max_connections=300",
            .. state.Ephemeral ? new[] { "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off" } : [],
        ];
        return builder.AddResource(postgres)
            .WithEndpoint(port: port, targetPort: port, name: LocalPostgresResource.EndpointName, scheme: "tcp", isProxied: false)
            .WithArgs([.. prefix, .. settings])
            .WithHealthCheck($"{name}_check")
            .WithIconName("DatabaseMultiple");
    }

    // "name:tag" (AppHost:RedisImage=sessions-local/redis:7): an image built locally, or another version than Aspire's.
    static string ImageName(string image) => image.LastIndexOf(':') is var colon and > 0 && !image[colon..].Contains('/') ? image[..colon] : image;

    static string? ImageTag(string image) => ImageName(image) is var name && name.Length < image.Length ? image[(name.Length + 1)..] : null;

    /// <summary>A database on the server (created when the server is ready), its own health check, like Aspire's AddDatabase.</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddDatabase(this IResourceBuilder<IResourceWithConnectionString> server, string name)
    {
        if (server.Resource is PostgresServerResource)
            return PostgresBuilderExtensions.AddDatabase((IResourceBuilder<PostgresServerResource>)server, name);
        if (server.Resource is not LocalPostgresResource postgres)
            throw new ArgumentException($"'{server.Resource.Name}' is not a Postgres server.", nameof(server));
        return LocalPostgresDatabases.Add(server.ApplicationBuilder, postgres, name);
    }
}
