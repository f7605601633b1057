using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Facilitator.Local;
using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Facilitator;

/// <summary>
/// The <see cref="IFacilitatorClient"/> the gate uses: <see cref="HttpFacilitatorClient"/> when <c>Facilitator:Url</c> names
/// a facilitator, else the gate's own one in-process (<see cref="LocalFacilitatorClient"/>). Read per call, as the HTTP
/// client reads its URL, so a reloaded configuration switches both ways.
/// </summary>
public sealed class FacilitatorClient(IOptionsMonitor<FacilitatorOptions> options, HttpFacilitatorClient http, IServiceProvider services)
    : IFacilitatorClient
{
    public Task<VerifyResponse> VerifyAsync(VerifyRequest request, CancellationToken cancellationToken) =>
        Current().VerifyAsync(request, cancellationToken);

    public Task<SettleResponse> SettleAsync(SettleRequest request, CancellationToken cancellationToken) =>
        Current().SettleAsync(request, cancellationToken);

    public Task<SupportedResponse> GetSupportedAsync(CancellationToken cancellationToken) => Current().GetSupportedAsync(cancellationToken);

    // Without a URL the local facilitator is on (options validation): the one /facilitator would have answered with.
    IFacilitatorClient Current() => options.CurrentValue.SettlesInGateDatabase
        ? services.GetRequiredService<LocalFacilitatorClient>()
        : http;
}
