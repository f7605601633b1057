using Sessions.Client;

namespace Sessions.Cli;

/// <summary>
/// A spinner on stderr while a paid request is out (the gate verifies, forwards and settles it), inside the PaymentHandler, so it
/// turns only for the request that carries the payment. Only for a person watching: never with --json, never when stdout or
/// stderr is redirected; the line is cleared before anything else is printed.
/// </summary>
public sealed class Spinner(TextWriter writer) : DelegatingHandler
{
    const string Frames = "|/-\\";
    static readonly TimeSpan Frame = TimeSpan.FromMilliseconds(100);

    public static bool Shows(bool json) => !json && !Console.IsOutputRedirected && !Console.IsErrorRedirected;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!PaymentHandler.CarriesPayment(request))
            return await base.SendAsync(request, cancellationToken);
        using var stop = new CancellationTokenSource();
        var spinning = SpinAsync(writer, "settling the payment", stop.Token);
        try
        {
            return await base.SendAsync(request, cancellationToken);
        }
        finally
        {
            await stop.CancelAsync();
            await spinning;
        }
    }

    public static async Task SpinAsync(TextWriter writer, string label, CancellationToken stop)
    {
        for (var frame = 0; !stop.IsCancellationRequested; frame++)
        {
            await writer.WriteAsync($"\r{Frames[frame % Frames.Length]} {label}");
            await writer.FlushAsync(CancellationToken.None);
            try
            {
                await Task.Delay(Frame, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await writer.WriteAsync("\r\u001b[2K");   // erase the spinner's line
        await writer.FlushAsync(CancellationToken.None);
    }
}
