using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sessions.ServiceDefaults.Payers;
using Sessions.ServiceDefaults.Errors;

namespace Microsoft.Extensions.Hosting;

public static class PayerContextExtensions
{
    /// <summary>
    /// Verifies the gate's <c>X-Payer-Context</c> header on every request (a startup filter adds the middleware):
    /// a valid one becomes <see cref="HttpContextPayerExtensions.GetPayerContext"/>; an invalid, forged or expired one
    /// answers 401 before any endpoint runs. Requests without the header go on without a payer.
    /// </summary>
    public static TBuilder AddPayerContext<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<PayerContextOptions>().BindConfiguration(PayerContextOptions.SectionName);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<PayerContextSigner>();
        builder.Services.AddHttpContextAccessor();
        builder.Services.TryAddSingleton<IPayerContextAccessor, HttpPayerContextAccessor>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, PayerContextStartupFilter>());
        return builder;
    }

    /// <summary>Endpoints that serve a payer's own data: 401 problem without a valid payer context.</summary>
    public static TBuilder RequirePayer<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter(async (context, next) =>
            context.HttpContext.GetPayerContext() is null
                ? Problems.Coded(StatusCodes.Status401Unauthorized, "payer-context-required", "Payment required at the gate",
                    "This endpoint serves a payer's own data and is reachable only through the payment gate.")
                : await next(context));
        return builder;
    }
}

public static class HttpContextPayerExtensions
{
    /// <summary>The verified payer of this request, or null when the request carries no payer context.</summary>
    public static PayerContext? GetPayerContext(this HttpContext context) => context.Features.Get<PayerContextFeature>()?.Context;

    internal static void SetPayerContext(this HttpContext context, PayerContext payer) => context.Features.Set(new PayerContextFeature(payer));
}

internal sealed record PayerContextFeature(PayerContext Context);

/// <summary>The payer of the current request for code that has no HttpContext at hand (MCP tools, stores).</summary>
public interface IPayerContextAccessor
{
    PayerContext? Current { get; }
}

internal sealed class HttpPayerContextAccessor(IHttpContextAccessor http) : IPayerContextAccessor
{
    public PayerContext? Current => http.HttpContext?.GetPayerContext();
}

internal sealed class PayerContextStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextMiddleware) =>
        {
            var header = context.Request.Headers[PayerContextSigner.HeaderName];
            if (header.Count == 0)
            {
                await nextMiddleware(context);
                return;
            }
            var signer = context.RequestServices.GetRequiredService<PayerContextSigner>();
            PayerContext? payer = null;
            string? error = header.Count > 1 ? "More than one payer context." : null;
            if (error is not null || !signer.TryVerify(header[0], out payer, out error))
            {
                await Problems.WriteAsync(context, StatusCodes.Status401Unauthorized, "payer-context-invalid", "Invalid payer context", error);
                return;
            }
            context.SetPayerContext(payer!);
            await nextMiddleware(context);
        });
        next(app);
    };
}
