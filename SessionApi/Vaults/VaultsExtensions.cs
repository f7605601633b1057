namespace Sessions.SessionApi.Vaults;

public static class VaultsExtensions
{
    /// <summary>The vault provisioner (one vault per session) and its HttpClient to <c>http://vaultapi</c>.</summary>
    public static IHostApplicationBuilder AddVaultProvisioning(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<VaultProvisionerOptions>().BindConfiguration(VaultProvisionerOptions.SectionName)
            .Validate(o => o.Interval > TimeSpan.Zero && o.BatchSize is >= 1 and <= 1000, "SessionApi:Vaults: Interval > 0, BatchSize 1..1000.")
            .ValidateOnStart();
        builder.Services.AddHttpClient(VaultProvisioner.HttpClientName, client => client.BaseAddress = new Uri("http://vaultapi"));
        builder.Services.AddSingleton<VaultProvisioner>();
        builder.Services.AddHostedService(services => services.GetRequiredService<VaultProvisioner>());
        return builder;
    }
}
