using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;
using Sessions.Testing.Fuzz;
using Sessions.VaultApi.Vaults;
using VaultApi.Tests.Vaults;

namespace VaultApi.Tests.Fuzz;

// Issue 13 fuzzing: VaultApi's JSON bodies, 10,000 seeded cases per decoder through binding and the problem it becomes, and
// a sample over HTTP (as the gate forwards a payer's request): never a 5xx or an internal name, every error coded, no row
// written in vaultsdb.
public sealed class PublicBodyFuzzTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    VaultHarness _vaults = null!;

    public async ValueTask InitializeAsync() => _vaults = await VaultHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _vaults.DisposeAsync();

    static readonly string[] Documents =
    [
        """{"name":"notes.txt","content":"buy milk","contentType":"text/plain","addedBy":"agent"}""",
        """{"name":"data.json","content":{"a":[1,2,{"b":null}]},"contentType":"application/json"}""",
    ];

    [Fact]
    public async Task Add_document_bodies()
    {
        var bound = await JsonBodyDecoderFuzz.RunAsync<AddDocumentRequest>(_vaults.Services, Documents, 13_0201);
        Assert.InRange(bound, 500, 9_500);

        var rows = await JsonFuzzOracle.RowsAsync(_vaults.ConnectionString);
        await JsonBodyHttpFuzz.RunAsync(_vaults.Client, HttpMethod.Post, "/api/vaults/vlt_fuzz/documents", Documents, 13_0202, 250,
            request => request.Headers.Add(PayerContextSigner.HeaderName, _vaults.Context()));
        Assert.Equal(rows, await JsonFuzzOracle.RowsAsync(_vaults.ConnectionString));
    }

    [Fact]
    public async Task Gate_decoders() =>
        await JsonBodyDecoderFuzz.RunAsync<EnsureVaultRequest>(_vaults.Services,
            ["""{"organization":"demo","payer":"0x1111111111111111111111111111111111111111","expiresAt":"2030-01-01T00:00:00Z"}"""], 13_0203);
}
