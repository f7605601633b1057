using Sessions.SessionApi.Ledger;

namespace Sessions.SessionApi.Sessions;

public static class SessionsExtensions
{
    /// <summary>The stores, the ledger audit and the expiry sweeper; needs <c>AddNpgsqlDataSource("sessionsdb")</c>.</summary>
    public static IHostApplicationBuilder AddSessions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SessionApiOptions>().BindConfiguration(SessionApiOptions.SectionName)
            .Validate(options => options.SweepInterval > TimeSpan.Zero, "SessionApi:SweepInterval must be positive.")
            .Validate(options => options.DefaultPrepaidTtl >= SessionRequests.MinTtl && options.DefaultPrepaidTtl <= SessionRequests.MaxTtl,
                "SessionApi:DefaultPrepaidTtl must be between 60 seconds and 7 days.")
            .ValidateOnStart();
        builder.Services.AddSingleton<SessionStore>();
        builder.Services.AddSingleton<DebitFold>();
        builder.Services.AddSingleton<LedgerAudit>();
        builder.Services.AddSingleton<ExpirySweeper>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ExpirySweeper>());
        return builder;
    }
}
