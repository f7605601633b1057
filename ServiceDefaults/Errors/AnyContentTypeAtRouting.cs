using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Metadata;

namespace Microsoft.Extensions.Hosting;

public static class AnyContentTypeAtRoutingExtensions
{
    /// <summary>
    /// Routing drops an endpoint whose JSON body the request's Content-Type does not declare; where a broader route matches the
    /// same path (the gate's proxy catch-all), the request then goes there instead (a 405 or 502, not a 415). Accepting any
    /// content type at routing leaves the check to binding, which answers the coded 415 <c>unsupported-media-type</c>.
    /// </summary>
    public static TBuilder AcceptAnyContentTypeAtRouting<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        // Finally: after the body parameter's own accepts metadata, so this one is what routing reads. Only where there is a body:
        // on a body-less endpoint it would make API explorers (the gate's OpenAPI document) describe a body of type void.
        builder.Finally(endpoint =>
        {
            if (endpoint.Metadata.OfType<IAcceptsMetadata>().LastOrDefault() is { } body)
                endpoint.Metadata.Add(new AnyContentType(body.RequestType));
        });
        return builder;
    }

    sealed class AnyContentType(Type? requestType) : IAcceptsMetadata
    {
        public IReadOnlyList<string> ContentTypes { get; } = ["*/*"];
        public Type? RequestType => requestType;
        public bool IsOptional => true;
    }
}
