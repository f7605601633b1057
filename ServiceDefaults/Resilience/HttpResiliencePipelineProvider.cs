using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Sessions.ServiceDefaults.Resilience;

/// <summary>
/// One pipeline per client name, kept for the life of the app: the circuit breaker's state must outlive the
/// handlers IHttpClientFactory recycles. Order, outermost first: total timeout, retry, circuit breaker, attempt timeout.
/// </summary>
public sealed class HttpResiliencePipelineProvider(IOptionsMonitor<HttpStandardResilienceOptions> options, ILoggerFactory loggerFactory)
{
    internal static readonly ResiliencePropertyKey<HttpRequestMessage> RequestKey = new("Sessions.HttpRequestMessage");

    readonly ConcurrentDictionary<string, Lazy<ResiliencePipeline<HttpResponseMessage>>> _pipelines = new(StringComparer.Ordinal);
    readonly ILogger _logger = loggerFactory.CreateLogger("Sessions.ServiceDefaults.Resilience");

    public ResiliencePipeline<HttpResponseMessage> GetPipeline(string clientName) =>
        _pipelines.GetOrAdd(clientName, name => new(() => Build(name, options.Get(name)))).Value;

    ResiliencePipeline<HttpResponseMessage> Build(string clientName, HttpStandardResilienceOptions o)
    {
        if (o.AttemptTimeout > o.TotalRequestTimeout)
            throw new OptionsValidationException(clientName, typeof(HttpStandardResilienceOptions),
                [$"HttpClient '{clientName}': AttemptTimeout ({o.AttemptTimeout}) is longer than TotalRequestTimeout ({o.TotalRequestTimeout})."]);

        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { Name = clientName }
            .AddTimeout(new TimeoutStrategyOptions { Name = "TotalRequestTimeout", Timeout = o.TotalRequestTimeout });
        // MaxRetryAttempts = 0 turns retries off (Polly's retry strategy needs at least one).
        if (o.Retry.MaxRetryAttempts > 0)
            pipeline.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                Name = "Retry",
                MaxRetryAttempts = o.Retry.MaxRetryAttempts,
                Delay = o.Retry.BaseDelay,
                MaxDelay = o.Retry.MaxDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = o.Retry.UseJitter,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Context.Properties.TryGetValue(RequestKey, out var request)
                    && HttpResiliencePredicates.IsIdempotent(request.Method)
                    && HttpResiliencePredicates.IsTransient(args.Outcome)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
                OnRetry = args =>
                {
                    _logger.LogWarning(args.Outcome.Exception,
                        "HttpClient {ClientName}: attempt {Attempt} failed ({Outcome}); retrying in {Delay}.",
                        clientName, args.AttemptNumber + 1, Describe(args.Outcome), args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            });
        return pipeline
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                Name = "CircuitBreaker",
                FailureRatio = o.CircuitBreaker.FailureRatio,
                MinimumThroughput = o.CircuitBreaker.MinimumThroughput,
                SamplingDuration = o.CircuitBreaker.SamplingDuration,
                BreakDuration = o.CircuitBreaker.BreakDuration,
                ShouldHandle = args => ValueTask.FromResult(HttpResiliencePredicates.IsTransient(args.Outcome)),
                OnOpened = args =>
                {
                    _logger.LogWarning("HttpClient {ClientName}: circuit opened for {BreakDuration} after {Outcome}.",
                        clientName, args.BreakDuration, Describe(args.Outcome));
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(new TimeoutStrategyOptions { Name = "AttemptTimeout", Timeout = o.AttemptTimeout })
            .Build();
    }

    // 429 and 503 may say when to come back; otherwise the exponential back-off applies (null).
    static TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        var retryAfter = response?.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
            return delta;
        if (retryAfter?.Date is { } date)
            return date - DateTimeOffset.UtcNow is { Ticks: > 0 } wait ? wait : TimeSpan.Zero;
        return null;
    }

    static string Describe(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } exception ? exception.GetType().Name : $"HTTP {(int)outcome.Result!.StatusCode}";
}
