using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Sessions.ServiceDefaults.Errors;

/// <summary>
/// What minimal-API binding could not read (<see cref="BadHttpRequestException"/>: a body that is not JSON, a field of the
/// wrong type, no body, a body that is not <c>application/json</c>, a route or query value that does not parse) as a coded
/// problem naming the field, never the framework's message (it names the endpoint's parameter types).
/// Binding throws in every environment (<c>RouteHandlerOptions.ThrowOnBadRequest</c>) so this sees the cause.
/// </summary>
public static partial class BadRequestProblems
{
    public static IResult For(BadHttpRequestException exception)
    {
        if (exception.StatusCode == StatusCodes.Status415UnsupportedMediaType)
            return Problems.Coded(StatusCodes.Status415UnsupportedMediaType, Problems.UnsupportedMediaType, "Unsupported media type",
                "Send the body as JSON with Content-Type: application/json.");
        if (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
            return Problems.Coded(StatusCodes.Status413PayloadTooLarge, Problems.BodyTooLarge, "Request body too large");
        if (exception.StatusCode != StatusCodes.Status400BadRequest)
            return Problems.Coded(exception.StatusCode, "bad-request", "Bad request");

        if (exception.InnerException is JsonException json)
        {
            // A reader error (not JSON at all) wraps the reader's own JsonException; a value of the wrong type does not.
            var field = json.InnerException is JsonException ? null : FieldOf(json.Path);
            return field is null
                ? Problems.Coded(StatusCodes.Status400BadRequest, Problems.InvalidJson, "Invalid JSON",
                    "The body must be one JSON object with the documented fields.")
                : Invalid(Problems.InvalidField, field, "Wrong JSON type or value for this field.");
        }
        var parameter = ParameterName().Match(exception.Message) is { Success: true } match ? match.Groups["name"].Value : null;
        if (exception.Message.Contains("body", StringComparison.OrdinalIgnoreCase))
            return Problems.Coded(StatusCodes.Status400BadRequest, Problems.MissingBody, "Request body required",
                "Send a JSON object with Content-Type: application/json.");
        if (parameter is null)
            return Problems.Coded(StatusCodes.Status400BadRequest, "bad-request", "Bad request");
        return exception.Message.StartsWith("Required", StringComparison.Ordinal)
            ? Invalid(Problems.MissingField, parameter, "Required.")
            : Invalid(Problems.InvalidField, parameter, "Not a valid value.");
    }

    static IResult Invalid(string code, string field, string message) =>
        Problems.Invalid(new Dictionary<string, string[]> { [field] = [message] }, "Invalid request", code,
            extensions: new Dictionary<string, object?> { ["field"] = field });

    // "$.deposit" -> "deposit", "$.nested.name" -> "nested.name", "$['odd key']" -> "odd key", "$.items[2]" -> "items[2]".
    static string? FieldOf(string? path)
    {
        if (path is null || path == "$" || !path.StartsWith('$')) return null;
        var field = BracketedName().Replace(path[1..], ".$1").TrimStart('.');
        return field.Length == 0 ? null : field;
    }

    // The framework's messages quote the parameter as "Type name": only the name (the query, route or header key) is public.
    [GeneratedRegex("^[^\"]*\"[^\"]* (?<name>[A-Za-z_][A-Za-z0-9_]*)\"")]
    private static partial Regex ParameterName();

    [GeneratedRegex(@"\['([^']*)'\]")]
    private static partial Regex BracketedName();
}

/// <summary>Answers <see cref="BadHttpRequestException"/> for UseExceptionHandler (outside Development).</summary>
internal sealed class BadRequestExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException badRequest) return false;
        await BadRequestProblems.For(badRequest).ExecuteAsync(httpContext);
        return true;
    }
}
