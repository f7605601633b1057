using Sessions.PaymentGate.Mpp;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.Hosting;

public static class MppServiceCollectionExtensions
{
    /// <summary>MPP (the <c>Payment</c> HTTP authentication scheme) beside x402 on every paid route: section <c>Gate:Mpp</c>.</summary>
    public static IServiceCollection AddMppPayments(this IServiceCollection services)
    {
        services.AddOptions<MppOptions>().BindConfiguration(MppOptions.SectionName);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<MppChallenger>();
        services.TryAddSingleton<MppPayments>();
        return services;
    }
}
