namespace Sessions.VaultApi.Vaults;

public static class VaultsExtensions
{
    /// <summary>The store and the retention sweeper; needs <c>AddNpgsqlDataSource("vaultsdb")</c>.</summary>
    public static IHostApplicationBuilder AddVaults(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<VaultApiOptions>().BindConfiguration(VaultApiOptions.SectionName)
            .Validate(o => o.SweepInterval > TimeSpan.Zero, "VaultApi:SweepInterval must be positive.")
            .Validate(o => o.MaxDocumentBytes > 0, "VaultApi:MaxDocumentBytes must be positive.")
            .Validate(o => o.DefaultRetention >= TimeSpan.Zero && o.Retention.Values.All(r => r >= TimeSpan.Zero), "Retention cannot be negative.")
            .ValidateOnStart();
        builder.Services.AddSingleton<VaultStore>();
        builder.Services.AddSingleton<RetentionSweeper>();
        builder.Services.AddHostedService(services => services.GetRequiredService<RetentionSweeper>());
        return builder;
    }
}
