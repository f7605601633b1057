namespace Sessions.VaultApi.Vaults;

public static class VaultsExtensions
{
    /// <summary>The store, the retention sweeper and its webhook reporter; needs <c>AddNpgsqlDataSource("vaultsdb")</c>.</summary>
    public static IHostApplicationBuilder AddVaults(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<VaultApiOptions>().BindConfiguration(VaultApiOptions.SectionName)
            .Validate(o => o.SweepInterval > TimeSpan.Zero, "VaultApi:SweepInterval must be positive.")
            .Validate(o => o.MaxDocumentBytes > 0, "VaultApi:MaxDocumentBytes must be positive.")
            .Validate(o => o.DefaultRetention >= TimeSpan.Zero && o.Retention.Values.All(r => r >= TimeSpan.Zero), "Retention cannot be negative.")
            .Validate(o => o.ExpiringNotice >= TimeSpan.Zero && o.SweepBatchSize is >= 1 and <= 10_000,
                "VaultApi: ExpiringNotice cannot be negative, SweepBatchSize 1..10000.")
            .ValidateOnStart();
        builder.Services.AddHttpClient(VaultEvents.HttpClientName, client => client.BaseAddress = new Uri("http://sessionapi"));
        builder.Services.AddSingleton<VaultEvents>();
        builder.Services.AddSingleton<VaultStore>();
        builder.Services.AddSingleton<RetentionSweeper>();
        builder.Services.AddHostedService(services => services.GetRequiredService<RetentionSweeper>());
        return builder;
    }
}
