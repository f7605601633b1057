using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Npgsql;
using StackExchange.Redis;

namespace Sessions.ServiceDefaults.Errors;

/// <summary>
/// An exception that says Postgres or Redis is not there right now (connection refused or lost, the server shutting down or
/// restarting) is a 503 with <c>Retry-After</c> and a stable code (<c>database-unavailable</c>, <c>store-unavailable</c>),
/// not a 500: the request did nothing durable and can be sent again. Other database errors stay 500s.
/// </summary>
public static class DependencyUnavailableProblems
{
    /// <summary>The problem for <paramref name="exception"/>, or null when it is not an outage.</summary>
    public static IResult? For(Exception exception) => Classify(exception) switch
    {
        "database" => Problems.Coded(StatusCodes.Status503ServiceUnavailable, "database-unavailable", "Database unavailable",
            "The database did not answer; nothing was changed. Retry shortly."),
        "store" => Problems.Coded(StatusCodes.Status503ServiceUnavailable, "store-unavailable", "Store unavailable",
            "The store (Redis) did not answer; nothing was changed. Retry shortly."),
        _ => null,
    };

    static string? Classify(Exception exception) => exception switch
    {
        // 08: connection exception; 57P01-03: the server is shutting down, crashed or is starting up.
        PostgresException postgres => postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
            || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal) ? "database" : null,
        NpgsqlException npgsql when npgsql.InnerException is SocketException or IOException or TimeoutException
            || npgsql.Message.StartsWith("Failed to connect", StringComparison.Ordinal) => "database",
        _ when IsStoreOutage(exception) => "store",
        _ => null,
    };

    /// <summary>
    /// Redis did not answer. Besides its connection and timeout exceptions, StackExchange.Redis lets two others out when the
    /// connection drops with commands in flight: their tasks cancelled with no token asked for (callers pass none), and the
    /// socket pipe's "Writing is not allowed after writer was completed" (System.IO.Pipelines) for a command written as it closed.
    /// </summary>
    public static bool IsStoreOutage(Exception exception) => exception
        is RedisConnectionException or RedisTimeoutException
        or TaskCanceledException { CancellationToken.IsCancellationRequested: false }
        or InvalidOperationException { Source: "System.IO.Pipelines" };

    internal static async Task<bool> TryWriteAsync(HttpContext context, Exception exception)
    {
        if (For(exception) is not { } problem || context.Response.HasStarted)
            return false;
        context.Response.Headers.RetryAfter = "5";
        await problem.ExecuteAsync(context);
        return true;
    }
}

/// <summary>Answers an outage of Postgres or Redis for UseExceptionHandler (outside Development).</summary>
internal sealed class DependencyUnavailableExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken) =>
        await DependencyUnavailableProblems.TryWriteAsync(httpContext, exception);
}
