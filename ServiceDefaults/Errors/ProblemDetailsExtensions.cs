using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sessions.ServiceDefaults.Errors;

namespace Microsoft.Extensions.Hosting;

public static class ProblemDetailsExtensions
{
    /// <summary>
    /// Every error response as RFC 9457 <c>application/problem+json</c> with a <c>traceId</c>: unhandled exceptions
    /// (500, no stack trace in any environment; the exception message as <c>detail</c> in Development only), requests
    /// that binding could not read (a coded 400/415 naming the field, <see cref="BadRequestProblems"/>) and
    /// body-less error status codes (404 for unknown routes, 405, <c>Results.BadRequest()</c>...), each with a <c>code</c>. The middleware
    /// is added by a startup filter, so a service cannot forget it.
    /// </summary>
    public static TBuilder AddDefaultProblemDetails<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = Customize);
        // Binding failures throw in every environment, so the handler can name the field at fault (BadRequestProblems).
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        builder.Services.AddExceptionHandler<DependencyUnavailableExceptionHandler>();
        // A member twice, or in two cases (web defaults bind case-insensitively), is a JsonException (a coded 400), not the
        // ArgumentException (a 500) System.Text.Json throws for it when binding a record's constructor.
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.AllowDuplicateProperties = false);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, ProblemDetailsStartupFilter>());
        // WebApplication adds the developer exception page in Development; this filter makes it answer the same problem.
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IDeveloperPageExceptionFilter, ProblemDetailsDeveloperPageExceptionFilter>());
        return builder;
    }

    static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var request = context.HttpContext.Request;
        problem.Instance ??= request.Path.HasValue ? $"{request.Method} {request.PathBase}{request.Path}" : null;
        problem.Extensions["traceId"] = Activity.Current?.Id ?? context.HttpContext.TraceIdentifier;
        // The developer page's extension carries the stack trace and the request headers (credentials included).
        problem.Extensions.Remove("exception");
        if (!problem.Extensions.ContainsKey("code"))
            AddCode(problem, context.HttpContext.Response.StatusCode);
    }

    // Every problem carries a stable code: the last segment of a project type (https://sessions.dev/problems/…,
    // https://paymentauth.org/problems/…), else the status's reason phrase for the framework's own answers (415 from
    // routing: "unsupported-media-type", 404, 405...).
    static void AddCode(ProblemDetails problem, int responseStatus)
    {
        var status = problem.Status ?? responseStatus;
        if (problem.Type is { } type && !type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal) && type.LastIndexOf('/') is var slash and >= 0
            && slash < type.Length - 1)
        {
            problem.Extensions["code"] = type[(slash + 1)..];
            return;
        }
        var phrase = ReasonPhrases.GetReasonPhrase(status);
        var code = phrase.Length == 0 ? "error" : phrase.ToLowerInvariant().Replace(' ', '-').Replace("'", "");
        problem.Extensions["code"] = code;
        problem.Type = Problems.TypePrefix + code;
    }
}
