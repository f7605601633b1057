namespace Sessions.SessionApi.Webhooks;

public static class WebhooksExtensions
{
    /// <summary>The endpoint store, the dispatcher and its HttpClient; needs <c>AddNpgsqlDataSource</c> and a TimeProvider.</summary>
    public static IHostApplicationBuilder AddWebhooks(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.SectionName)
            .Validate(o => o.PollInterval > TimeSpan.Zero && o.Timeout > TimeSpan.Zero, "SessionApi:Webhooks: PollInterval and Timeout must be positive.")
            .Validate(o => o.BackoffBase > TimeSpan.Zero && o.MaxBackoff >= o.BackoffBase, "SessionApi:Webhooks: 0 < BackoffBase <= MaxBackoff.")
            .Validate(o => o.MaxAttempts >= 1 && o.BatchSize is >= 1 and <= 1000, "SessionApi:Webhooks: MaxAttempts >= 1, BatchSize 1..1000.")
            .Validate(o => o.Retention > TimeSpan.Zero && o.PruneInterval > TimeSpan.Zero, "SessionApi:Webhooks: Retention and PruneInterval must be positive.")
            .ValidateOnStart();
        // The dispatcher retries with its own back-off; RemoveAllResilienceHandlers is experimental (EXTEXP0001).
#pragma warning disable EXTEXP0001
        builder.Services.AddHttpClient(WebhookDispatcher.HttpClientName, client =>
            {
                client.Timeout = Timeout.InfiniteTimeSpan;   // the dispatcher bounds each attempt itself
                client.DefaultRequestHeaders.UserAgent.ParseAdd("Sessions-Webhooks/1");
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),   // receivers move (DNS) and we keep sending
            })
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        builder.Services.AddSingleton<WebhookStore>();
        builder.Services.AddSingleton<WebhookDispatcher>();
        builder.Services.AddHostedService(services => services.GetRequiredService<WebhookDispatcher>());
        builder.Services.AddSingleton<OutboxPruner>();
        builder.Services.AddHostedService(services => services.GetRequiredService<OutboxPruner>());
        return builder;
    }
}
