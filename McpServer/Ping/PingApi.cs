namespace Sessions.McpServer.Ping;

public static class PingApi
{
    /// <summary><c>GET /api/ping</c>: free and payer-less; the gate's baseline route for overhead measurements.</summary>
    public static RouteHandlerBuilder MapPingApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/ping", () => TypedResults.Ok(new PingResponse(true)));

    public sealed record PingResponse(bool Pong);
}
