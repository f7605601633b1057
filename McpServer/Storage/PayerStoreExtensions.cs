using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sessions.McpServer.Storage;

namespace Microsoft.Extensions.Hosting;

public static class PayerStoreExtensions
{
    /// <summary>
    /// The payer-scoped <see cref="IPayerStore"/>, chosen by <c>PayerStore:Provider</c>: <c>redis</c> (default, on the
    /// <paramref name="redisConnectionName"/> connection, <c>PayerStore:Redis:DefaultTtl</c>) or <c>memory</c>
    /// (<c>PayerStore:Memory:MaxEntries</c>, <c>PayerStore:Memory:DefaultTtl</c>). A singleton either way: the payer
    /// is read from <see cref="IPayerContextAccessor"/> on every call, never captured. Options are validated when the
    /// host starts (an invalid value stops it with a message naming the key); an unknown provider fails right here.
    /// </summary>
    public static TBuilder AddPayerStore<TBuilder>(this TBuilder builder, string redisConnectionName = "redis") where TBuilder : IHostApplicationBuilder
    {
        var section = builder.Configuration.GetSection(PayerStoreOptions.SectionName);
        var provider = section[nameof(PayerStoreOptions.Provider)] is { Length: > 0 } configured ? configured.Trim() : PayerStoreOptions.RedisProvider;

        builder.Services.AddOptions<PayerStoreOptions>()
            .BindConfiguration(PayerStoreOptions.SectionName)
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PayerStoreOptions>, PayerStoreOptionsValidator>());
        builder.Services.TryAddSingleton(TimeProvider.System);

        if (provider.Equals(PayerStoreOptions.MemoryProvider, StringComparison.OrdinalIgnoreCase))
        {
            builder.Services.AddSingleton<IPayerStore>(services => new InMemoryPayerStore(services.GetRequiredService<IPayerContextAccessor>(),
                services.GetRequiredService<IOptions<PayerStoreOptions>>().Value.Memory, services.GetRequiredService<TimeProvider>()));
        }
        else if (provider.Equals(PayerStoreOptions.RedisProvider, StringComparison.OrdinalIgnoreCase))
        {
            builder.AddFailFastRedisClient(redisConnectionName);
            builder.Services.AddSingleton<IPayerStore>(services => new RedisPayerStore(services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>().GetDatabase(),
                services.GetRequiredService<IPayerContextAccessor>(), services.GetRequiredService<IOptions<PayerStoreOptions>>().Value.Redis));
        }
        else
        {
            throw new InvalidOperationException(
                $"{PayerStoreOptions.SectionName}:Provider is '{provider}'; it must be '{PayerStoreOptions.RedisProvider}' (default) or '{PayerStoreOptions.MemoryProvider}'.");
        }
        return builder;
    }
}

sealed class PayerStoreOptionsValidator : IValidateOptions<PayerStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, PayerStoreOptions options)
    {
        string?[] errors = [options.Memory.Validate(), options.Redis.Validate()];
        var failures = errors.OfType<string>().ToArray();
        return failures.Length == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
