using System.Diagnostics;
using Sessions.ServiceDefaults.Telemetry;

namespace Sessions.PaymentGate;

/// <summary>The gate's own spans ("Sessions.PaymentGate", exported by ServiceDefaults with every "Sessions.*" source).</summary>
public static class PaymentGateTelemetry
{
    public static readonly ActivitySource ActivitySource = SessionsTelemetry.CreateActivitySource("PaymentGate");
}
