using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Sessions.ServiceDefaults.Errors;

/// <summary>
/// The one way every service says what went wrong: RFC 9457 problem+json with a stable <c>code</c> extension that is also
/// the last segment of <c>type</c>. Clients switch on <c>code</c>; <c>title</c> and <c>detail</c> are for people.
/// </summary>
public static class Problems
{
    public const string TypePrefix = "https://sessions.dev/problems/";

    /// <summary>Codes of request-shape problems every service can answer (see <see cref="BadRequestProblems"/>).</summary>
    public const string InvalidJson = "invalid-json", InvalidField = "invalid-field", MissingField = "missing-field",
        MissingBody = "missing-body", UnsupportedMediaType = "unsupported-media-type", BodyTooLarge = "body-too-large";

    /// <param name="type">Only for problems a protocol defines under its own URI (MPP's); by default ours, ending in the code.</param>
    public static ProblemHttpResult Coded(int status, string code, string title, string? detail = null,
        IDictionary<string, object?>? extensions = null, string? type = null)
    {
        var all = extensions is null ? new Dictionary<string, object?>() : new Dictionary<string, object?>(extensions);
        all["code"] = code;
        return TypedResults.Problem(statusCode: status, title: title, detail: detail, type: type ?? TypePrefix + code, extensions: all);
    }

    /// <summary>A 400 naming each field at fault in <c>errors</c> (code <c>invalid-field</c> unless said otherwise).</summary>
    public static ValidationProblem Invalid(IDictionary<string, string[]> errors, string? title = null, string code = InvalidField,
        string? detail = null, IDictionary<string, object?>? extensions = null)
    {
        var all = extensions is null ? new Dictionary<string, object?>() : new Dictionary<string, object?>(extensions);
        all["code"] = code;
        return TypedResults.ValidationProblem(errors, detail: detail, title: title, type: TypePrefix + code, extensions: all);
    }

    /// <summary>For middleware and handlers that write the response themselves: the same problem as <see cref="Coded"/>.</summary>
    public static Task WriteAsync(HttpContext context, int status, string code, string title, string? detail = null,
        IDictionary<string, object?>? extensions = null, string? type = null) =>
        Coded(status, code, title, detail, extensions, type).ExecuteAsync(context);
}
