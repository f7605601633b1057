using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sessions.ServiceDefaults.Errors;

namespace Microsoft.Extensions.Hosting;

public static class ProblemDetailsExtensions
{
    /// <summary>
    /// Every error response as RFC 9457 <c>application/problem+json</c> with a <c>traceId</c>: unhandled exceptions
    /// (500, no stack trace in any environment; the exception message as <c>detail</c> in Development only) and
    /// body-less error status codes (404 for unknown routes, 405, <c>Results.BadRequest()</c>...). The middleware
    /// is added by a startup filter, so a service cannot forget it.
    /// </summary>
    public static TBuilder AddDefaultProblemDetails<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = Customize);
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
    }
}
