using Sessions.McpServer.Mcp;

namespace Microsoft.Extensions.Hosting;

/// <summary>Configuration section <c>Mcp</c>.</summary>
public sealed class McpOptions
{
    public const string SectionName = "Mcp";

    /// <summary>
    /// Browser origins allowed to call <c>/mcp</c> (exact, case-insensitive, e.g. <c>https://app.example.com</c>). A request
    /// with any other <c>Origin</c> answers 403 (DNS-rebinding protection, as the MCP transport spec asks); requests
    /// without <c>Origin</c> (agents, SDK clients, curl, the gate) and same-origin requests are allowed.
    /// </summary>
    public string[] AllowedOrigins { get; set; } = [];
}

public static class McpEndpoint
{
    public const string Path = "/mcp";

    /// <summary>The tools (<see cref="McpToolCatalog"/>) and the HttpClients they use to reach VaultApi and SessionApi.</summary>
    public static TBuilder AddMcpTools<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<McpOptions>().BindConfiguration(McpOptions.SectionName);
        builder.Services.AddSingleton<McpToolCatalog>();
        builder.Services.AddSingleton<Upstreams>();
        builder.Services.AddHttpClient(Upstreams.VaultApi, client => client.BaseAddress = new Uri("http://vaultapi"));
        builder.Services.AddHttpClient(Upstreams.SessionApi, client => client.BaseAddress = new Uri("http://sessionapi"));
        return builder;
    }

    /// <summary>
    /// <c>POST /mcp</c> (Streamable HTTP, stateless; <see cref="McpHttpHandler"/>), <c>GET</c>/<c>DELETE /mcp</c> 405 (no
    /// sessions, so no stream to open and none to end) and <c>GET /mcp/pricing</c> for the gate.
    /// </summary>
    public static IEndpointRouteBuilder MapMcp(this IEndpointRouteBuilder app)
    {
        // Build the catalog now: a tool without a price declaration stops the service at start-up, not at the first call.
        app.ServiceProvider.GetRequiredService<McpToolCatalog>();

        var mcp = app.MapGroup(Path);
        mcp.MapPost("", McpHttpHandler.HandlePostAsync).AddEndpointFilter(ValidateOrigin);
        mcp.MapMethods("", [HttpMethods.Get, HttpMethods.Delete], (HttpContext context) =>
        {
            context.Response.Headers.Allow = HttpMethods.Post;
            return McpHttpHandler.Problem(StatusCodes.Status405MethodNotAllowed, "method-not-allowed", "Method Not Allowed",
                "Method Not Allowed: this MCP server is stateless; it has no sessions, so there is no stream to open (GET) or session to end (DELETE). Use POST.");
        }).AddEndpointFilter(ValidateOrigin);
        mcp.MapGet("/pricing", (McpToolCatalog catalog) => TypedResults.Ok(new PricingResponse(catalog.Pricing)));
        return app;
    }

    /// <param name="Tools">Each tool's name, declared price (<c>"$0.01"</c>; null = free) and description, by name.</param>
    public sealed record PricingResponse(IReadOnlyList<ToolPricing> Tools);

    static async ValueTask<object?> ValidateOrigin(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0) return await next(invocation);
        var allowed = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<McpOptions>>().Value.AllowedOrigins;
        if (allowed.Contains(origin, StringComparer.OrdinalIgnoreCase) || IsSameOrigin(context.Request, origin)) return await next(invocation);
        return McpHttpHandler.Problem(StatusCodes.Status403Forbidden, "origin-not-allowed", "Origin not allowed",
            $"Forbidden: the origin '{origin}' may not call this MCP server (configure {McpOptions.SectionName}:AllowedOrigins).");
    }

    // The scheme is not compared: TLS usually ends at a proxy, so the request is http while the page's origin is https.
    static bool IsSameOrigin(HttpRequest request, string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) && request.Host.HasValue
        && string.Equals(request.Host.Host, uri.Host, StringComparison.OrdinalIgnoreCase)
        && (request.Host.Port ?? DefaultPort(request.Scheme)) == (uri.IsDefaultPort ? DefaultPort(uri.Scheme) : uri.Port);

    static int DefaultPort(string scheme) => string.Equals(scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase) ? 443 : 80;
}
