using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sessions.McpServer.Storage;

namespace Microsoft.Extensions.Hosting;

public static class SessionStoreExtensions
{
    /// <summary>
    /// The payer-scoped <see cref="ISessionStore"/>, chosen by <c>SessionStore:Provider</c>: <c>redis</c> (default, on the
    /// <paramref name="redisConnectionName"/> connection, <c>SessionStore:Redis:DefaultTtl</c>) or <c>memory</c>
    /// (<c>SessionStore:Memory:MaxEntries</c>, <c>SessionStore:Memory:DefaultTtl</c>). A singleton either way: the payer
    /// is read from <see cref="IPayerContextAccessor"/> on every call, never captured. Options are validated when the
    /// host starts (an invalid value stops it with a message naming the key); an unknown provider fails right here.
    /// </summary>
    public static TBuilder AddSessionStore<TBuilder>(this TBuilder builder, string redisConnectionName = "redis") where TBuilder : IHostApplicationBuilder
    {
        var section = builder.Configuration.GetSection(SessionStoreOptions.SectionName);
        var provider = section[nameof(SessionStoreOptions.Provider)] is { Length: > 0 } configured ? configured.Trim() : SessionStoreOptions.RedisProvider;

        builder.Services.AddOptions<SessionStoreOptions>()
            .BindConfiguration(SessionStoreOptions.SectionName)
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SessionStoreOptions>, SessionStoreOptionsValidator>());
        builder.Services.TryAddSingleton(TimeProvider.System);

        if (provider.Equals(SessionStoreOptions.MemoryProvider, StringComparison.OrdinalIgnoreCase))
        {
            builder.Services.AddSingleton<ISessionStore>(services => new InMemorySessionStore(services.GetRequiredService<IPayerContextAccessor>(),
                services.GetRequiredService<IOptions<SessionStoreOptions>>().Value.Memory, services.GetRequiredService<TimeProvider>()));
        }
        else if (provider.Equals(SessionStoreOptions.RedisProvider, StringComparison.OrdinalIgnoreCase))
        {
            builder.AddRedisClient(redisConnectionName);
            builder.Services.AddSingleton<ISessionStore>(services => new RedisSessionStore(services.GetRequiredService<Sessions.Redis.IRedisClient>(),
                services.GetRequiredService<IPayerContextAccessor>(), services.GetRequiredService<IOptions<SessionStoreOptions>>().Value.Redis));
        }
        else
        {
            throw new InvalidOperationException(
                $"{SessionStoreOptions.SectionName}:Provider is '{provider}'; it must be '{SessionStoreOptions.RedisProvider}' (default) or '{SessionStoreOptions.MemoryProvider}'.");
        }
        return builder;
    }
}

sealed class SessionStoreOptionsValidator : IValidateOptions<SessionStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, SessionStoreOptions options)
    {
        string?[] errors = [options.Memory.Validate(), options.Redis.Validate()];
        var failures = errors.OfType<string>().ToArray();
        return failures.Length == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
