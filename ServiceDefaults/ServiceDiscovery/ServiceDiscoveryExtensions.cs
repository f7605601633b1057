using Microsoft.Extensions.DependencyInjection.Extensions;
using Sessions.ServiceDefaults.ServiceDiscovery;

namespace Microsoft.Extensions.DependencyInjection;

// Same names and namespace as Microsoft.Extensions.ServiceDiscovery, so a later swap changes no caller.
public static class ServiceDiscoveryExtensions
{
    /// <summary>Registers <see cref="ServiceEndpointResolver"/> (configuration-based, Aspire's keys).</summary>
    public static IServiceCollection AddServiceDiscovery(this IServiceCollection services)
    {
        services.TryAddSingleton<ServiceEndpointResolver>();
        services.TryAddTransient<ServiceDiscoveryHttpMessageHandler>();
        return services;
    }

    /// <summary>Resolves <c>http://&lt;service&gt;</c>, <c>https://&lt;service&gt;</c> and <c>https+http://&lt;service&gt;</c> request URIs.</summary>
    public static IHttpClientBuilder AddServiceDiscovery(this IHttpClientBuilder builder)
    {
        builder.Services.AddServiceDiscovery();
        builder.AddHttpMessageHandler(services => services.GetRequiredService<ServiceDiscoveryHttpMessageHandler>());
        return builder;
    }
}
