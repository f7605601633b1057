using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Sessions.McpServer.Mcp;
using Sessions.ServiceDefaults.Payers;

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

    /// <summary>
    /// The MCP server of ModelContextProtocol.AspNetCore, stateless (any instance serves any call, no <c>Mcp-Session-Id</c>),
    /// with the tools of <see cref="McpToolCatalog"/>, a call-tool filter that runs priced tools only on a paid request, and
    /// the HttpClients the tools use to reach VaultApi and SessionApi.
    /// </summary>
    public static TBuilder AddMcpTools<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<McpOptions>().BindConfiguration(McpOptions.SectionName);
        builder.Services.AddSingleton<McpToolCatalog>();
        builder.Services.AddSingleton<Upstreams>();
        builder.Services.AddHttpClient(Upstreams.VaultApi, client => client.BaseAddress = new Uri("http://vaultapi"));
        builder.Services.AddHttpClient(Upstreams.SessionApi, client => client.BaseAddress = new Uri("http://sessionapi"));

        builder.Services.AddMcpServer(options =>
            {
                options.ServerInfo = new Implementation { Name = "sessions-mcpserver", Title = "Sessions MCP server", Version = "1.0.0" };
                options.ServerInstructions = "Paid tools over a payer's own storage, vault and session. Call through the payment gate: priced " +
                                             "tools need an x402 payment or a session token (prices: GET /mcp/pricing or each tool's _meta[\"x402/price\"]).";
            })
            .WithHttpTransport(options => options.Stateless = true)
            .WithRequestFilters(filters => filters.AddCallToolFilter(next => async (request, cancellationToken) =>
                RunsUnpaid(request.Services!, request.Params?.Name) ? ToolResults.PayerRequired(request.Params!.Name) : await next(request, cancellationToken)));
        // The catalog's tools (with their prices in _meta), not the SDK's own discovery: the catalog also checks every price.
        builder.Services.AddOptions<McpServerOptions>().Configure<McpToolCatalog>((options, catalog) =>
        {
            options.ToolCollection ??= [];
            foreach (var tool in catalog.Tools) options.ToolCollection.Add(tool);
        });
        return builder;
    }

    // A priced tool runs only on a paid request: not without the gate (no payer context), and not on a context the gate signed
    // only to say who asks (IdentifiedOnly: a free route or free tool, nothing charged).
    static bool RunsUnpaid(IServiceProvider services, string? tool) =>
        services.GetRequiredService<McpToolCatalog>().IsPriced(tool)
        && services.GetRequiredService<IPayerContextAccessor>().Current is not { IdentifiedOnly: false };

    /// <summary>
    /// <c>POST /mcp</c> (the SDK's Streamable HTTP handler) behind <see cref="McpRequestGuard"/>, <c>GET</c>/<c>DELETE /mcp</c>
    /// 405 with <c>Allow: POST</c> (no sessions: no stream to open, none to end) and <c>GET /mcp/pricing</c> for the gate.
    /// </summary>
    public static WebApplication MapMcpTools(this WebApplication app)
    {
        // Build the catalog now: a tool without a price declaration stops the service at start-up, not at the first call.
        app.Services.GetRequiredService<McpToolCatalog>();

        app.UseWhen(context => context.Request.Path.StartsWithSegments(Path), mcp => mcp.UseMiddleware<McpRequestGuard>());
        app.MapMcp(Path);
        // Unmapped, routing would answer these 405 with a text body; as the SDK answers them on the 2026-07-28 revision instead.
        app.MapMethods(Path, [HttpMethods.Get, HttpMethods.Delete], (HttpContext context) =>
        {
            context.Response.Headers.Allow = HttpMethods.Post;
            return McpRequestGuard.WriteErrorAsync(context, StatusCodes.Status405MethodNotAllowed, McpRequestGuard.ServerError,
                "Method Not Allowed: this MCP server is stateless; it has no sessions, so there is no stream to open (GET) or session to end (DELETE). Use POST.");
        });
        app.MapGet($"{Path}/pricing", (McpToolCatalog catalog) => TypedResults.Ok(new PricingResponse(catalog.Pricing)));
        return app;
    }

    /// <param name="Tools">Each tool's name, declared price (<c>"$0.01"</c>; null = free) and description, by name.</param>
    public sealed record PricingResponse(IReadOnlyList<ToolPricing> Tools);
}
