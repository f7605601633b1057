namespace Sessions.SessionApi.Mandates;

public static class MandatesExtensions
{
    /// <summary>The mandate store; needs <c>AddNpgsqlDataSource("sessionsdb")</c> and the webhooks outbox tables (0004).</summary>
    public static IHostApplicationBuilder AddMandates(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<MandateStore>();
        return builder;
    }
}
