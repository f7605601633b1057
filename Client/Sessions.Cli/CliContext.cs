using System.CommandLine;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sessions.Client;

namespace Sessions.Cli;

/// <summary>A failure the user should read: one line on stderr, a non-zero exit code.</summary>
public sealed class CliException(string message) : Exception(message);

/// <summary>What every command shares: the global options, the key, the state file, HTTP clients to the gate, output.</summary>
public sealed class CliContext : IAsyncDisposable
{
    public const string DefaultGate = "http://localhost:8402";
    const string ClientName = "gate";

    public static readonly Option<string?> GateOption = new("--gate") { Description = $"The gate's base URL (env SESSIONS_GATE, default {DefaultGate})", Recursive = true };
    public static readonly Option<string?> KeyOption = new("--key") { Description = "The payer's private key, hex (env SESSIONS_KEY)", Recursive = true };
    public static readonly Option<string?> KeyFileOption = new("--key-file") { Description = "A file holding the private key (default ~/.sessions/key)", Recursive = true };
    public static readonly Option<string?> StateOption = new("--state") { Description = "The sessions state file (default sessions.json next to the key file)", Recursive = true };
    public static readonly Option<bool> JsonOption = new("--json") { Description = "Print exact JSON instead of tables", Recursive = true };

    readonly List<IAsyncDisposable> _providers = [];
    readonly string? _key;

    CliContext(Uri gate, string? key, string keyFile, string statePath, bool json)
    {
        Gate = gate;
        _key = key;
        KeyFile = keyFile;
        StatePath = statePath;
        Json = json;
    }

    public Uri Gate { get; }
    public string KeyFile { get; }
    public string StatePath { get; }
    public bool Json { get; }

    public static string Home => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sessions");

    public static CliContext From(ParseResult parse)
    {
        var gateText = parse.GetValue(GateOption) ?? Environment.GetEnvironmentVariable("SESSIONS_GATE") ?? DefaultGate;
        if (!Uri.TryCreate(gateText.TrimEnd('/') + "/", UriKind.Absolute, out var gate) || gate.Scheme is not ("http" or "https"))
            throw new CliException($"--gate must be an http(s) URL, not '{gateText}'");
        var keyFile = parse.GetValue(KeyFileOption) ?? Path.Combine(Home, "key");
        var key = parse.GetValue(KeyOption) ?? (parse.GetValue(KeyFileOption) is null ? Environment.GetEnvironmentVariable("SESSIONS_KEY") : null);
        var state = parse.GetValue(StateOption) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(keyFile))!, "sessions.json");
        return new CliContext(gate, string.IsNullOrWhiteSpace(key) ? null : key.Trim(), keyFile, state, parse.GetValue(JsonOption));
    }

    /// <summary>The payer's key: --key, else SESSIONS_KEY, else the key file.</summary>
    public LocalKeySigner Signer()
    {
        var key = _key;
        if (key is null)
        {
            if (!File.Exists(KeyFile))
                throw new CliException($"no key: pass --key, --key-file or SESSIONS_KEY, or create one with `sessions wallet new` ({KeyFile} does not exist)");
            key = File.ReadAllText(KeyFile).Trim();
        }
        return SignerOf(key, "key");
    }

    /// <summary>A signer for a hex private key (with or without 0x), or a one-line failure naming <paramref name="what"/>.</summary>
    public static LocalKeySigner SignerOf(string key, string what)
    {
        try
        {
            return new LocalKeySigner(key.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? key : "0x" + key);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new CliException($"invalid {what}: expected 32 bytes of hex (0x + 64 hex digits)");
        }
    }

    /// <summary>A client that pays 402s with the key through Sessions.Client's <see cref="PaymentHandler"/>, within <paramref name="policy"/>.</summary>
    /// <remarks>With <paramref name="solana"/> the EVM key is optional: Solana offers are paid with it, EVM ones first when both.</remarks>
    public HttpClient PayingClient(SpendPolicy policy, ISolanaPaymentSigner? solana = null, Uri? solanaRpc = null)
    {
        var signer = solana is null || _key is not null || File.Exists(KeyFile) ? Signer() : null;
        var services = new ServiceCollection();
        var paying = services.AddHttpClient(ClientName, client => Configure(client)).AddPaymentHandler(options =>
        {
            options.Signer = signer;
            options.SolanaSigner = solana;
            options.SolanaRpcUrl = solana is null ? null : solanaRpc ?? new Uri(Gate, "dev/solana-rpc");
            options.SpendPolicy = policy;
        });
        if (Spinner.Shows(Json))
            paying.AddHttpMessageHandler(() => new Spinner(Console.Error));
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName);
    }

    /// <summary>A client for calls that pay nothing.</summary>
    public HttpClient PlainClient()
    {
        var services = new ServiceCollection();
        services.AddHttpClient(ClientName, client => Configure(client));
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName);
    }

    HttpClient Configure(HttpClient client)
    {
        client.BaseAddress = Gate;
        client.Timeout = TimeSpan.FromSeconds(60);
        return client;
    }

    /// <summary>A URL relative to the gate (<c>api/pricing</c>, <c>/api/content/a</c>) or absolute.</summary>
    public Uri Resolve(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https" ? absolute : new Uri(Gate, url.TrimStart('/'));

    public static StringContent JsonBody(object body) => new(JsonSerializer.Serialize(body, JsonSerializerOptions.Web), Encoding.UTF8, "application/json");

    /// <summary>The answer's JSON object, or a <see cref="CliException"/> naming its problem (<c>code</c>: <c>detail</c>).</summary>
    public static async Task<JsonElement> JsonOrFailAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new CliException($"{what}: {Failure(response.StatusCode, text)}");
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new CliException($"{what}: the gate answered {(int)response.StatusCode} without JSON");
        }
    }

    /// <summary>One line for a failed answer: problem+json's <c>code</c> and <c>detail</c>, x402's <c>error</c>, or the status.</summary>
    public static string Failure(HttpStatusCode status, string body)
    {
        string? code = null, detail = null;
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                code = Text(document.RootElement, "code") ?? Text(document.RootElement, "error");
                detail = Text(document.RootElement, "detail") ?? Text(document.RootElement, "title");
                // A validation problem's reasons are per field: name them, the title alone says too little.
                if (document.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
                    detail = $"{detail} ({string.Join("; ", errors.EnumerateObject().Select(e => $"{e.Name}: {string.Join(" ", e.Value.EnumerateArray().Select(m => m.GetString()))}"))})";
            }
        }
        catch (JsonException)
        {
            // Not JSON: the status says enough.
        }
        var line = $"{(int)status} {code ?? status.ToString()}{(detail is null ? "" : $": {detail}")}";
        return line.ReplaceLineEndings(" ");
    }

    public static string? Text(JsonElement json, string name) =>
        json.ValueKind == JsonValueKind.Object && json.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.String or JsonValueKind.Number
            ? (value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText())
            : null;

    /// <summary>Prints <paramref name="json"/> as JSON with --json, else the human form.</summary>
    public void Print(object json, Action human)
    {
        if (Json)
            Console.Out.WriteLine(JsonSerializer.Serialize(json, Output.JsonOptions));
        else
            human();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var provider in _providers)
            await provider.DisposeAsync();
    }
}
