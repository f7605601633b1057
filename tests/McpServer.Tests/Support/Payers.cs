using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Payers;

namespace McpServer.Tests.Support;

/// <summary>Payer contexts signed the way the gate signs them, with the tests' key.</summary>
public static class Payers
{
    public const string SigningKey = "mcpserver-tests-payer-context-key-0123456789";

    public static readonly PayerContextSigner Signer = new(Options.Create(new PayerContextOptions { SigningKey = SigningKey }), TimeProvider.System);

    /// <summary>A fresh lowercase address, so tests sharing one Redis never see each other's keys.</summary>
    public static string NewAddress() => "0x" + RandomNumberGenerator.GetHexString(40, lowercase: true);

    public static PayerContext Context(string payer) => new()
    {
        Payer = payer,
        Organization = "demo",
        PaymentId = "pay_" + Guid.NewGuid().ToString("N"),
        ExpiresAt = Signer.NewExpiry(),
    };

    public static string Header(string payer) => Signer.Sign(Context(payer));

    /// <summary>A client whose every request carries a fresh context for <paramref name="payer"/> (the gate signs one per request).</summary>
    public static HttpClient As(this HttpClient client, string payer)
    {
        client.DefaultRequestHeaders.Remove(PayerContextSigner.HeaderName);
        client.DefaultRequestHeaders.Add(PayerContextSigner.HeaderName, Header(payer));
        return client;
    }

    /// <summary>An EIP-55 (checksummed) address and its lowercase form: one payer.</summary>
    public const string ChecksummedAddress = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
}

/// <summary>For store-level tests: the payer is whatever the test says (an AsyncLocal, like a request scope).</summary>
public sealed class TestPayerAccessor : Microsoft.Extensions.Hosting.IPayerContextAccessor
{
    readonly AsyncLocal<PayerContext?> _current = new();

    public PayerContext? Current => _current.Value;

    public void Set(string? payer) => _current.Value = payer is null ? null : Payers.Context(payer);
}
