namespace Sessions.ServiceDefaults.ServiceDiscovery;

/// <summary>Sends <c>http://&lt;service&gt;/...</c> requests to the configured endpoint of that service.</summary>
public sealed class ServiceDiscoveryHttpMessageHandler(ServiceEndpointResolver resolver) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is { } uri)
            request.RequestUri = resolver.ResolveRequestUri(uri);
        return base.SendAsync(request, cancellationToken);
    }
}
