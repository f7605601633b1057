using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Resilience;

namespace Microsoft.Extensions.DependencyInjection;

// Same names and namespace as Microsoft.Extensions.Http.Resilience, so a later swap changes no caller.
public static class ResilienceHttpClientBuilderExtensions
{
    /// <summary>
    /// Total timeout, retries of idempotent methods with exponential back-off and jitter, circuit breaker and
    /// attempt timeout (see <see cref="HttpStandardResilienceOptions"/>). On the defaults builder
    /// (<c>ConfigureHttpClientDefaults</c>) it applies to every client; <see cref="RemoveAllResilienceHandlers"/> opts one out.
    /// </summary>
    public static IHttpClientBuilder AddStandardResilienceHandler(this IHttpClientBuilder builder, Action<HttpStandardResilienceOptions>? configure = null)
    {
        var services = builder.Services;
        services.TryAddSingleton<HttpResiliencePipelineProvider>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<HttpStandardResilienceOptions>, HttpStandardResilienceConfiguration>());
        services.AddOptions<HttpClientResilienceExclusions>();
        if (configure is not null)
            services.Configure(builder.Name, configure); // a null name (the defaults builder) configures every client

        services.Configure<HttpClientFactoryOptions>(builder.Name, factoryOptions =>
            factoryOptions.HttpMessageHandlerBuilderActions.Add(handlerBuilder =>
            {
                var clientName = handlerBuilder.Name ?? Options.Options.DefaultName;
                var exclusions = handlerBuilder.Services.GetRequiredService<IOptions<HttpClientResilienceExclusions>>().Value;
                if (exclusions.ClientNames.Contains(clientName))
                    return;
                var pipeline = handlerBuilder.Services.GetRequiredService<HttpResiliencePipelineProvider>().GetPipeline(clientName);
                handlerBuilder.AdditionalHandlers.Add(new HttpResilienceHandler(pipeline));
            }));
        return builder;
    }

    /// <summary>Different options for this client (or, on the defaults builder, for all); applied after configuration.</summary>
    public static IHttpClientBuilder ConfigureStandardResilience(this IHttpClientBuilder builder, Action<HttpStandardResilienceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(builder.Name, configure);
        return builder;
    }

    /// <summary>Opts this named client out of the standard resilience handler (e.g. a long-polling or streaming client).</summary>
    public static IHttpClientBuilder RemoveAllResilienceHandlers(this IHttpClientBuilder builder)
    {
        if (builder.Name is null)
            throw new InvalidOperationException("RemoveAllResilienceHandlers applies to a named client, not to the defaults.");
        var clientName = builder.Name;
        builder.Services.Configure<HttpClientResilienceExclusions>(exclusions => exclusions.ClientNames.Add(clientName));
        return builder;
    }
}

internal sealed class HttpClientResilienceExclusions
{
    public HashSet<string> ClientNames { get; } = new(StringComparer.Ordinal);
}

// Configuration first (section, then the client's own subsection); code configuration registered later wins.
internal sealed class HttpStandardResilienceConfiguration(IConfiguration configuration) : IConfigureNamedOptions<HttpStandardResilienceOptions>
{
    public void Configure(string? name, HttpStandardResilienceOptions options)
    {
        var section = configuration.GetSection(HttpStandardResilienceOptions.ConfigurationSection);
        section.Bind(options);
        if (!string.IsNullOrEmpty(name))
            section.GetSection("Clients").GetSection(name).Bind(options);
    }

    public void Configure(HttpStandardResilienceOptions options) => Configure(Options.Options.DefaultName, options);
}
