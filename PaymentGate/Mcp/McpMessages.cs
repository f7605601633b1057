using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sessions.ServiceDefaults.Json;

namespace Sessions.PaymentGate.Mcp;

/// <summary>
/// One JSON-RPC message a client POSTed to an MCP route, as far as the gate reads it: the method, the id, the tool name of a
/// <c>tools/call</c> and the payment in <c>params._meta</c> (x402's or MPP's key). Everything else travels unchanged.
/// </summary>
public sealed class McpRequest
{
    /// <summary>x402's MCP transport: the PaymentPayload in, the SettleResponse out.</summary>
    public const string PaymentMetaKey = "x402/payment";
    public const string PaymentResponseMetaKey = "x402/payment-response";

    /// <summary>MPP's MCP transport (mppx <c>Mcp.credentialMetaKey</c>...): the credential object in, the receipt out.</summary>
    public const string CredentialMetaKey = "org.paymentauth/credential";
    public const string ReceiptMetaKey = "org.paymentauth/receipt";
    /// <summary>The MPP challenges beside a payment-required tool result (mppx's McpClient pays from them).</summary>
    public const string PaymentRequiredMetaKey = "org.paymentauth/payment-required";

    /// <summary>How the gate writes JSON-RPC: quotes and apostrophes in texts stay readable (the bodies are JSON, never HTML).</summary>
    public static readonly JsonSerializerOptions WriteOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    readonly JsonObject _root;

    McpRequest(JsonObject root) => _root = root;

    public string? Method => _root["method"] is JsonValue m && m.TryGetValue<string>(out var method) ? method : null;

    /// <summary>The request id (a string or a number); null for a notification or a response.</summary>
    public JsonNode? Id => _root["id"] is JsonValue id && id.GetValueKind() is JsonValueKind.String or JsonValueKind.Number ? id : null;

    JsonObject? Params => _root["params"] as JsonObject;

    /// <summary>The tool of a <c>tools/call</c> request (null otherwise).</summary>
    public string? ToolName => Method == "tools/call" && Id is not null && Params?["name"] is JsonValue n && n.TryGetValue<string>(out var name) ? name : null;

    /// <summary>
    /// One JSON-RPC object, or null when the body is not one (bad JSON, a batch, a scalar: such bodies are forwarded without
    /// any payer, so whatever the server makes of them, no priced tool runs for free) or repeats a member name
    /// (<paramref name="ambiguous"/>: "name" twice, or "name" and "Name", would be priced by one and run by the other).
    /// </summary>
    public static McpRequest? TryParse(ReadOnlyMemory<byte> body, out bool isBatch, out bool ambiguous)
    {
        var node = UnambiguousJson.TryParse(body, out ambiguous);
        isBatch = node is JsonArray;
        return node is JsonObject root ? new McpRequest(root) : null;
    }

    /// <summary>Removes and returns <c>params._meta[key]</c> (a payment of either transport): upstreams never see payment proofs.</summary>
    public JsonNode? TakeMeta(string key, out bool present)
    {
        present = false;
        if (Params?["_meta"] is not JsonObject meta || !meta.ContainsKey(key))
            return null;
        present = true;
        var payment = meta[key];
        meta.Remove(key);
        return payment;
    }

    public byte[] ToUtf8Bytes() => Encoding.UTF8.GetBytes(_root.ToJsonString(WriteOptions));
}

/// <summary>
/// The server's answer to one request, found in a buffered body that is either JSON (<c>application/json</c>) or SSE
/// (<c>text/event-stream</c>, the answer in a <c>data:</c> event among possible notifications), and written back in the
/// same format once changed.
/// </summary>
public sealed class McpAnswer
{
    readonly List<List<string>>? _events;
    readonly int _eventIndex;

    McpAnswer(JsonObject message, List<List<string>>? events, int eventIndex)
    {
        Message = message;
        _events = events;
        _eventIndex = eventIndex;
    }

    /// <summary>The JSON-RPC response (<c>result</c> or <c>error</c>) to the request with <paramref name="id"/>.</summary>
    public JsonObject Message { get; }

    /// <summary>A tool result the client can use: a <c>result</c> without <c>isError: true</c>.</summary>
    public bool IsSuccessfulResult => Message["result"] is JsonObject result
        && !(result["isError"] is JsonValue e && e.TryGetValue<bool>(out var isError) && isError);

    public static McpAnswer? Find(string? contentType, ReadOnlyMemory<byte> body, JsonNode id)
    {
        try
        {
            var text = Encoding.UTF8.GetString(body.Span);
            if (contentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) != true)
                return JsonNode.Parse(text) is JsonObject single && Answers(single, id) ? new McpAnswer(single, null, -1) : null;

            var events = SplitEvents(text);
            for (var i = 0; i < events.Count; i++)
            {
                var data = string.Join('\n', events[i].Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l[5..].TrimStart(' ')));
                if (data.Length > 0 && JsonNode.Parse(data) is JsonObject message && Answers(message, id))
                    return new McpAnswer(message, events, i);
            }
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    static bool Answers(JsonObject message, JsonNode id) =>
        message.ContainsKey("result") || message.ContainsKey("error") ? JsonNode.DeepEquals(message["id"], id) : false;

    /// <summary>The body again, with <see cref="Message"/> as it is now, in the format it came in.</summary>
    public byte[] ToUtf8Bytes()
    {
        var json = Message.ToJsonString(McpRequest.WriteOptions);
        if (_events is null)
            return Encoding.UTF8.GetBytes(json);
        var builder = new StringBuilder();
        for (var i = 0; i < _events.Count; i++)
        {
            var wroteData = false;
            foreach (var line in _events[i])
            {
                if (i == _eventIndex && line.StartsWith("data:", StringComparison.Ordinal))
                {
                    // JSON serialised without indentation has no line breaks: one data line carries it all.
                    if (!wroteData)
                        builder.Append("data: ").Append(json).Append('\n');
                    wroteData = true;
                    continue;
                }
                builder.Append(line).Append('\n');
            }
            builder.Append('\n');
        }
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    /// <summary>SSE events (their lines), split at blank lines; CRLF, CR and LF all end a line.</summary>
    static List<List<string>> SplitEvents(string text)
    {
        var events = new List<List<string>>();
        var current = new List<string>();
        // Only CR and LF end SSE lines (not ReplaceLineEndings' Unicode separators, which may sit inside the JSON).
        foreach (var line in text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n'))
        {
            if (line.Length == 0)
            {
                if (current.Count > 0)
                    events.Add(current);
                current = [];
            }
            else
                current.Add(line);
        }
        if (current.Count > 0)
            events.Add(current);
        return events;
    }
}
