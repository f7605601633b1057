using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.HttpResults;
using Sessions.Payments.X402;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.PaymentGate.Facilitator.Local;

/// <summary>The standard facilitator API under <c>/facilitator</c>, answered by <see cref="LocalFacilitator"/>.</summary>
public static class LocalFacilitatorApi
{
    public static RouteGroupBuilder MapLocalFacilitatorApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(HttpFacilitatorClient.LocalPath).WithTags("Facilitator");
        group.MapPost("/verify", VerifyAsync);
        group.MapPost("/settle", SettleAsync);
        group.MapGet("/supported", (LocalFacilitator facilitator) => TypedResults.Json(facilitator.Supported(), X402JsonContext.Strict.SupportedResponse));
        return group;
    }

    static async Task<Results<JsonHttpResult<VerifyResponse>, ProblemHttpResult>> VerifyAsync(
        HttpRequest request, LocalFacilitator facilitator, CancellationToken cancellationToken)
    {
        var (body, problem) = await ReadAsync(request, X402JsonContext.Strict.VerifyRequest, cancellationToken);
        if (problem is not null)
            return problem;
        return TypedResults.Json(await facilitator.VerifyAsync(body!, cancellationToken), X402JsonContext.Strict.VerifyResponse);
    }

    // A refused settlement is HTTP 200 with success:false (as the x402 facilitators answer); only a broken request is 400.
    static async Task<Results<JsonHttpResult<SettleResponse>, ProblemHttpResult>> SettleAsync(
        HttpRequest request, LocalFacilitator facilitator, CancellationToken cancellationToken)
    {
        var (body, problem) = await ReadAsync(request, X402JsonContext.Strict.SettleRequest, cancellationToken);
        if (problem is not null)
            return problem;
        return TypedResults.Json(await facilitator.SettleAsync(body!, cancellationToken), X402JsonContext.Strict.SettleResponse);
    }

    // Read with the strict x402 context (duplicate members refused, numbers as numbers), not the app's lenient defaults.
    static async Task<(T? Body, ProblemHttpResult? Problem)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo,
        CancellationToken cancellationToken) where T : class
    {
        try
        {
            var body = await JsonSerializer.DeserializeAsync(request.Body, typeInfo, cancellationToken);
            return body is null ? (null, BadRequest("The body must be {x402Version, paymentPayload, paymentRequirements}.")) : (body, null);
        }
        catch (JsonException exception)
        {
            return (null, BadRequest($"The body is not a facilitator request {{x402Version, paymentPayload, paymentRequirements}}: {exception.Message}"));
        }
    }

    static ProblemHttpResult BadRequest(string detail) =>
        Problems.Coded(StatusCodes.Status400BadRequest, "invalid-facilitator-request", "Invalid facilitator request", detail);
}
