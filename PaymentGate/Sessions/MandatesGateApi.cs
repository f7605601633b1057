using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Sessions.PaymentGate.Paywall;
using Sessions.ServiceDefaults.Errors;
using Sessions.ServiceDefaults.Payers;

namespace Sessions.PaymentGate.Sessions;

/// <summary>
/// What an agent's owner (the user wallet) does with its mandates at the gate (docs/mandates.md "Reaching mandates through the gate"), passed to
/// SessionApi's public mandate API and answered as SessionApi answers. The user's EIP-712 signature is the authentication:
/// in the body for create (with the agent's), revoke, approve and deny; in the headers <c>Mandate-Timestamp</c> and
/// <c>Mandate-Signature</c> (<c>ReadMandates(user, timestamp)</c>) for reads, which the gate never forwards without them
/// (SessionApi answers a signed read with the signer's mandates only). No payer context is made here, and nothing of the
/// client's request but the path, the JSON body and these two headers reaches SessionApi.
/// </summary>
public static class MandatesGateApi
{
    public const string ReadTimestampHeader = "Mandate-Timestamp";
    public const string ReadSignatureHeader = "Mandate-Signature";

    /// <summary>Signed terms with 100 merchants and 4 KiB of metadata fit several times over.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false, MaxDepth = 16 };

    public static IEndpointRouteBuilder MapGateMandates(this IEndpointRouteBuilder app)
    {
        var mandates = app.MapGroup("/api/mandates");
        mandates.MapPost("", (HttpContext context, SessionApiClient api, SessionBalances balances) => SignedActionAsync(context, api, balances, "/api/mandates"));
        mandates.MapPost("/{id}/revoke", (HttpContext context, string id, SessionApiClient api, SessionBalances balances) =>
            SignedActionAsync(context, api, balances, $"/api/mandates/{Uri.EscapeDataString(id)}/revoke"));
        mandates.MapGet("", (HttpContext context, SessionApiClient api) =>
            SignedReadAsync(context, api, "/api/mandates" + context.Request.QueryString.ToUriComponent()));
        mandates.MapGet("/{id}", (HttpContext context, string id, SessionApiClient api) =>
            SignedReadAsync(context, api, $"/api/mandates/{Uri.EscapeDataString(id)}"));
        mandates.MapGet("/{id}/approvals", (HttpContext context, string id, SessionApiClient api) =>
            SignedReadAsync(context, api, $"/api/mandates/{Uri.EscapeDataString(id)}/approvals"));

        var approvals = app.MapGroup("/api/approvals");
        approvals.MapPost("/{id}/approve", (HttpContext context, string id, SessionApiClient api, SessionBalances balances) =>
            SignedActionAsync(context, api, balances, $"/api/approvals/{Uri.EscapeDataString(id)}/approve"));
        approvals.MapPost("/{id}/deny", (HttpContext context, string id, SessionApiClient api, SessionBalances balances) =>
            SignedActionAsync(context, api, balances, $"/api/approvals/{Uri.EscapeDataString(id)}/deny"));
        return app;
    }

    /// <summary>Create, revoke, approve, deny: the JSON body carries the user's signature, which SessionApi checks.</summary>
    static async Task SignedActionAsync(HttpContext context, SessionApiClient api, SessionBalances balances, string path)
    {
        if (!context.Request.HasJsonContentType())
        {
            await Problems.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, Problems.UnsupportedMediaType, "Unsupported media type",
                "Send the signed request as application/json.");
            return;
        }
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            await TooLargeAsync(context);
            return;
        }
        JsonElement body;
        try
        {
            // Kestrel stops a longer chunked body while it is read (413).
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
                limit.MaxRequestBodySize = MaxBodyBytes;
            using var document = await JsonDocument.ParseAsync(context.Request.Body, StrictJson, context.RequestAborted);
            body = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, Problems.InvalidJson, "Invalid JSON",
                "The body is not one JSON value (or repeats a member name).");
            return;
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await TooLargeAsync(context);
            return;
        }
        await RelayAsync(context, api, balances, HttpMethod.Post, path, body, null);
    }

    /// <summary>Reads: signed by the user in two headers, or refused here (an unsigned read would list anyone's mandates).</summary>
    static async Task SignedReadAsync(HttpContext context, SessionApiClient api, string pathAndQuery)
    {
        var (timestamp, signature) = (context.Request.Headers[ReadTimestampHeader], context.Request.Headers[ReadSignatureHeader]);
        if (timestamp is not [{ Length: > 0 and <= 20 } ts] || signature is not [{ Length: > 0 and <= 200 } sig])
        {
            await Problems.WriteAsync(context, StatusCodes.Status401Unauthorized, "signature-required", "Signature required",
                $"Reads of mandates are signed by their user: send {ReadTimestampHeader} (unix seconds) and {ReadSignatureHeader} " +
                "(EIP-712 ReadMandates(user, timestamp)) once each.");
            return;
        }
        await RelayAsync(context, api, null, HttpMethod.Get, pathAndQuery, null, [new(ReadTimestampHeader, ts), new(ReadSignatureHeader, sig)]);
    }

    static async Task RelayAsync(HttpContext context, SessionApiClient api, SessionBalances? balances, HttpMethod method, string pathAndQuery,
        JsonElement? body, KeyValuePair<string, string>[]? headers)
    {
        ServiceAnswer answer;
        try
        {
            answer = await api.OwnerCallAsync(method, pathAndQuery, body, headers, context.RequestAborted);
        }
        catch (SessionApiUnavailableException exception)
        {
            await PaywallResponses.WriteUnavailableAsync(context, "Mandates unavailable", exception.Message);
            return;
        }
        if (answer.Status == HttpStatusCode.Created && answer.Text("id") is { } id)
            context.Response.Headers.Location = $"/api/mandates/{id}";
        // The agent's payments and session debits are charged against its mandate from now on, on every gate (MandatedAgents);
        // marked on a replayed create too (200), which is how an owner finishes a create that answered 503 below.
        if (balances is not null && answer.IsSuccess && answer.Text("agent") is { } agent)
        {
            try
            {
                await balances.MarkMandatedAsync(agent);
            }
            catch (Exception exception) when (SessionBalances.IsUnavailable(exception))
            {
                // Stored, but not yet binding the agent's spending: the same request again finishes it (create is idempotent).
                await PaywallResponses.WriteUnavailableAsync(context, "Mandate not effective yet",
                    $"The mandate {answer.Text("id")} is stored, but the gate could not record it ({exception.Message}); send the same request again.");
                return;
            }
        }
        await Results.Json(answer.Body, statusCode: (int)answer.Status, contentType: answer.IsSuccess ? null : "application/problem+json")
            .ExecuteAsync(context);
    }

    static Task TooLargeAsync(HttpContext context) => Problems.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, Problems.BodyTooLarge,
        "Request too large", $"The gate reads signed mandate requests of at most {MaxBodyBytes} bytes.");
}
