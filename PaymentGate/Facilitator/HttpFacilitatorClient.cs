using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Facilitator;

/// <summary>
/// The standard facilitator API over HTTP (named client <see cref="HttpClientName"/>). Fails closed: anything but a
/// readable answer (network error, timeout, redirect, 5xx, unreadable body) is <see cref="FacilitatorUnavailableException"/>.
/// </summary>
/// <remarks>
/// verify and settle are POSTs, which the ServiceDefaults resilience handler never retries (only idempotent methods):
/// a settle that timed out may have moved money, so repeating it blindly is the caller's decision, not the pipeline's.
/// Redirects are never followed (x402 issue #605: a facilitator that redirects must not turn into "paid").
/// </remarks>
public sealed class HttpFacilitatorClient(
    IHttpClientFactory httpClientFactory,
    IOptionsMonitor<FacilitatorOptions> options,
    IServiceProvider services,
    ILogger<HttpFacilitatorClient> logger) : IFacilitatorClient
{
    public const string HttpClientName = "facilitator";

    /// <summary>Where the gate serves its local facilitator; the client's base URL when <c>Facilitator:Url</c> is empty.</summary>
    public const string LocalPath = "/facilitator";

    public async Task<VerifyResponse> VerifyAsync(VerifyRequest request, CancellationToken cancellationToken)
    {
        using var activity = PaymentGateTelemetry.ActivitySource.StartActivity("facilitator.verify", ActivityKind.Client);
        var response = await SendAsync(HttpMethod.Post, "verify", JsonContent.Create(request, X402JsonContext.Strict.VerifyRequest),
            X402JsonContext.Strict.VerifyResponse, activity, cancellationToken);
        FacilitatorSpans.TagVerify(activity, response);
        return response;
    }

    public async Task<SettleResponse> SettleAsync(SettleRequest request, CancellationToken cancellationToken)
    {
        using var activity = PaymentGateTelemetry.ActivitySource.StartActivity("facilitator.settle", ActivityKind.Client);
        var response = await SendAsync(HttpMethod.Post, "settle", JsonContent.Create(request, X402JsonContext.Strict.SettleRequest),
            X402JsonContext.Strict.SettleResponse, activity, cancellationToken);
        FacilitatorSpans.TagSettle(activity, response);
        return response;
    }

    public async Task<SupportedResponse> GetSupportedAsync(CancellationToken cancellationToken)
    {
        using var activity = PaymentGateTelemetry.ActivitySource.StartActivity("facilitator.supported", ActivityKind.Client);
        return await SendAsync(HttpMethod.Get, "supported", null, X402JsonContext.Strict.SupportedResponse, activity, cancellationToken);
    }

    async Task<T> SendAsync<T>(HttpMethod method, string relative, HttpContent? content, JsonTypeInfo<T> typeInfo, Activity? activity,
        CancellationToken cancellationToken) where T : class
    {
        var uri = new Uri(BaseAddress(), relative);
        activity?.SetTag("server.address", uri.Host);
        activity?.SetTag("url.full", uri.GetLeftPart(UriPartial.Path));
        using var request = new HttpRequestMessage(method, uri) { Content = content };
        if (options.CurrentValue.ApiKey is { Length: > 0 } apiKey)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);

        try
        {
            using var response = await httpClientFactory.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
            activity?.SetTag("http.response.status_code", (int)response.StatusCode);
            var status = (int)response.StatusCode;
            // 2xx carries the answer; 4xx may too (a refused verify/settle with its reason). 3xx is never followed.
            if (status is >= 300 and < 400)
                throw Unavailable(activity, $"{method} {uri} answered a redirect ({status}){Location(response)}; redirects are not followed");
            if (status >= 500)
                throw Unavailable(activity, $"{method} {uri} answered {status}");

            T? answer;
            try
            {
                answer = await response.Content.ReadFromJsonAsync(typeInfo, cancellationToken);
            }
            catch (Exception exception) when (exception is JsonException or NotSupportedException or InvalidOperationException)
            {
                throw Unavailable(activity, $"{method} {uri} answered {status} with an unreadable body: {exception.Message}");
            }
            return answer ?? throw Unavailable(activity, $"{method} {uri} answered {status} with an empty body");
        }
        catch (FacilitatorUnavailableException)
        {
            throw;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;   // the caller gave up; not the facilitator's failure
        }
        catch (Exception exception)
        {
            // HttpRequestException (refused, DNS, TLS), timeouts (TaskCanceledException, Polly's TimeoutRejectedException),
            // an open circuit (BrokenCircuitException), IOException mid-body.
            throw Unavailable(activity, $"{method} {uri} failed: {exception.GetType().Name}: {exception.Message}", exception);
        }
    }

    FacilitatorUnavailableException Unavailable(Activity? activity, string message, Exception? inner = null)
    {
        activity?.SetStatus(ActivityStatusCode.Error, message);
        activity?.SetTag("error.type", inner?.GetType().FullName ?? nameof(FacilitatorUnavailableException));
        logger.LogWarning(inner, "Facilitator unavailable: {Message}", message);
        return new FacilitatorUnavailableException(message, inner);
    }

    static string Location(HttpResponseMessage response) =>
        response.Headers.Location is { } location ? $" to {location}" : "";

    /// <summary>The configured URL, else the gate's own address + <see cref="LocalPath"/>; always ends with '/'.</summary>
    Uri BaseAddress()
    {
        var configured = options.CurrentValue.Url;
        if (!string.IsNullOrWhiteSpace(configured))
            return new Uri(configured.TrimEnd('/') + "/", UriKind.Absolute);
        return new Uri(OwnAddress() + LocalPath + "/", UriKind.Absolute);
    }

    // Kestrel reports the bound addresses once started; wildcard hosts (0.0.0.0, [::], +, *) are reached via loopback.
    // An in-memory test server reports none: "http://localhost" then, and tests give the client the server's handler.
    string OwnAddress()
    {
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses is null || addresses.Count == 0)
            return "http://localhost";
        var chosen = addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? addresses.First();
        var binding = BindingAddress.Parse(chosen);
        var host = binding.Host is "0.0.0.0" or "[::]" or "+" or "*" or "" ? "localhost" : binding.Host;
        return $"{binding.Scheme}://{host}:{binding.Port}";
    }
}
