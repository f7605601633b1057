namespace Sessions.SessionApi.Mandates;

public static class MandatesExtensions
{
    /// <summary>The mandate store and its expiry sweeper (interval <c>SessionApi:SweepInterval</c>); needs <c>AddNpgsqlDataSource("sessionsdb")</c> and the webhooks outbox tables (0004).</summary>
    public static IHostApplicationBuilder AddMandates(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<MandateStore>();
        builder.Services.AddSingleton<MandateExpirySweeper>();
        builder.Services.AddHostedService(services => services.GetRequiredService<MandateExpirySweeper>());
        return builder;
    }
}
