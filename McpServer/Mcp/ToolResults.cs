using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace Sessions.McpServer.Mcp;

/// <summary>
/// Tool answers: a success is the JSON as text (for clients that read only <c>content</c>) and the same JSON as
/// <c>structuredContent</c>; a failure is <c>isError: true</c> with the message as text and
/// <c>structuredContent = {error: code, message}</c>. The gate settles no payment for an error result.
/// </summary>
public static class ToolResults
{
    /// <summary>The REST APIs' JSON (camelCase), so a tool and its REST twin answer the same shape.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public const string PayerRequiredCode = "payer-required";

    public static CallToolResult Ok<T>(T value) => Ok(JsonSerializer.SerializeToElement(value, Json));

    public static CallToolResult Ok(JsonElement value) => new()
    {
        Content = [new TextContentBlock { Text = value.GetRawText() }],
        StructuredContent = value,
    };

    public static CallToolResult Error(string code, string message) => new()
    {
        IsError = true,
        Content = [new TextContentBlock { Text = message }],
        StructuredContent = JsonSerializer.SerializeToElement(new ToolError(code, message), Json),
    };

    /// <summary>A priced tool (or one serving a payer's data) reached without the gate's payer context.</summary>
    public static CallToolResult PayerRequired(string tool) => Error(PayerRequiredCode,
        $"PayerRequired: '{tool}' serves a payer's own data and is paid at the payment gate; this call carries no payer context. " +
        "Call the tool through the gate with an x402 payment or a session token.");

    public static CallToolResult NoSession(string tool) => Error("no-session",
        $"'{tool}' works on the payer's payment session, and this call was not paid with one: open a session first " +
        "(POST /api/sessions at the gate) and call the tool with its session token.");

    public sealed record ToolError(string Error, string Message);
}
