using System.ComponentModel.DataAnnotations;

namespace Sessions.ServiceDefaults.Resilience;

/// <summary>
/// The standard pipeline of every HttpClient (defaults as Microsoft.Extensions.Http.Resilience's standard handler).
/// Bound from configuration section <c>HttpClientResilience</c>, then <c>HttpClientResilience:Clients:&lt;clientName&gt;</c>
/// for one named client; code configuration from <c>AddStandardResilienceHandler(configure)</c> applies last.
/// </summary>
public sealed class HttpStandardResilienceOptions
{
    public const string ConfigurationSection = "HttpClientResilience";

    /// <summary>Bounds the whole call, all attempts and back-off delays included.</summary>
    public TimeSpan TotalRequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Bounds one attempt; a timed-out attempt counts as a transient failure.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public HttpRetryOptions Retry { get; set; } = new();

    public HttpCircuitBreakerOptions CircuitBreaker { get; set; } = new();
}

/// <summary>Retries only idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) on transient failures.</summary>
public sealed class HttpRetryOptions
{
    [Range(0, 100)]
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>First back-off delay; doubles per attempt, with jitter. A Retry-After header wins.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    public bool UseJitter { get; set; } = true;
}

/// <summary>Opens when the failure ratio over the sampling window reaches <see cref="FailureRatio"/>.</summary>
public sealed class HttpCircuitBreakerOptions
{
    public double FailureRatio { get; set; } = 0.1;

    /// <summary>Calls in the window before the ratio is considered (at least 2).</summary>
    public int MinimumThroughput { get; set; } = 100;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(5);
}
