using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Sessions.ServiceDefaults.Errors;

/// <summary>
/// Runs inside the developer exception page (Development only): answers the same problem as production, plus the
/// exception message as <c>detail</c>, and never the page's stack trace. A client that accepts no JSON (a browser)
/// still gets the HTML developer page.
/// </summary>
internal sealed class ProblemDetailsDeveloperPageExceptionFilter(IProblemDetailsService problemDetailsService) : IDeveloperPageExceptionFilter
{
    public async Task HandleExceptionAsync(ErrorContext errorContext, Func<ErrorContext, Task> next)
    {
        var httpContext = errorContext.HttpContext;
        if (errorContext.Exception is BadHttpRequestException unreadable)
        {
            await BadRequestProblems.For(unreadable).ExecuteAsync(httpContext);
            return;
        }
        if (await DependencyUnavailableProblems.TryWriteAsync(httpContext, errorContext.Exception))
            return;
        var status = errorContext.Exception is BadHttpRequestException badRequest ? badRequest.StatusCode : StatusCodes.Status500InternalServerError;
        httpContext.Response.StatusCode = status;
        var written = await problemDetailsService.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = errorContext.Exception,
            ProblemDetails = new ProblemDetails
            {
                Status = status,
                Title = status == StatusCodes.Status500InternalServerError ? "An error occurred while processing your request." : null,
                Detail = $"{errorContext.Exception.GetType().Name}: {errorContext.Exception.Message}",
            },
        });
        if (!written)
            await next(errorContext);
    }
}
