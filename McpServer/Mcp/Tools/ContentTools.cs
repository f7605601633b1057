using System.ComponentModel;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Sessions.McpServer.Content;
using Sessions.McpServer.Storage;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.McpServer.Mcp.Tools;

/// <summary>
/// The payer's key-value content over MCP: the same <see cref="IPayerStore"/>, limits, error texts and JSON as the REST
/// content API (<see cref="ContentApi"/>), so a value written by one is read by the other.
/// </summary>
[McpServerToolType]
public static class ContentTools
{
    const string KeyHelp = "1-256 characters of A-Z a-z 0-9 - _ . ~ : @ + = in '/'-separated segments, e.g. notes/today.";

    [McpServerTool(Name = "put-content", Title = "Store a value", Destructive = true, Idempotent = true, OpenWorld = false)]
    [Description("Stores UTF-8 text (at most 64 KiB) under a key in the payer's own storage, replacing any previous value; value null deletes the key. Returns {key, size, expiresAt?} or, for a delete, {key, deleted}.")]
    [ToolPrice("$0.01")]
    public static Task<CallToolResult> PutContentAsync(IPayerStore store,
        [Description("The key: " + KeyHelp)] string key,
        [Description("The text to store, or null to delete the key.")] string? value,
        [Description("Optional lifetime in seconds (1 to 31536000).")] long? ttl = null,
        CancellationToken cancellationToken = default) => GuardAsync("put-content", async () =>
    {
        if (ContentRules.CheckKey(key) is { } error) return Invalid(error);
        if (value is null)
            return await store.DeleteAsync(key, cancellationToken)
                ? ToolResults.Ok(new DeleteResult(key, true))
                : NotFound(key);
        if (ContentRules.CheckTtl(ttl) is { } ttlError) return Invalid(ttlError);
        var entry = await store.SetAsync(key, value, ttl is { } seconds ? TimeSpan.FromSeconds(seconds) : null, cancellationToken);
        return ToolResults.Ok(new ContentApi.PutResponse(entry.Key, entry.Size, entry.ExpiresAt));
    });

    [McpServerTool(Name = "get-content", Title = "Read a value", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Reads the text stored under a key in the payer's own storage. Returns {key, value, size, expiresAt?}; a missing or expired key is an error result.")]
    [ToolPrice("$0.001")]
    public static Task<CallToolResult> GetContentAsync(IPayerStore store,
        [Description("The key: " + KeyHelp)] string key,
        CancellationToken cancellationToken = default) => GuardAsync("get-content", async () =>
    {
        if (ContentRules.CheckKey(key) is { } error) return Invalid(error);
        return await store.GetAsync(key, cancellationToken) is { } entry
            ? ToolResults.Ok(new GetResult(entry.Key, entry.Value, entry.Size, entry.ExpiresAt))
            : NotFound(key);
    });

    [McpServerTool(Name = "list-content", Title = "List keys", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Lists the payer's live keys (and values unless keysOnly), a page at a time. Returns {items: [{key, value?}], nextCursor}; pass nextCursor back as cursor for the next page (null = no more).")]
    [ToolPrice("$0.001")]
    public static Task<CallToolResult> ListContentAsync(IPayerStore store,
        [Description("Only keys starting with this text.")] string? prefix = null,
        [Description("nextCursor of the previous page.")] string? cursor = null,
        [Description("Page size, 1 to 100 (default 20).")] int? limit = null,
        [Description("Leave the values out.")] bool? keysOnly = null,
        CancellationToken cancellationToken = default) => GuardAsync("list-content", async () =>
    {
        if (ContentRules.CheckList(prefix, cursor, limit) is { } error) return Invalid(error);
        var page = await store.ListAsync(new PayerListOptions(prefix, string.IsNullOrEmpty(cursor) ? null : cursor,
            limit ?? PayerStoreLimits.DefaultListLimit, keysOnly ?? false), cancellationToken);
        return ToolResults.Ok(new ContentApi.ListResponse([.. page.Items.Select(item => new ContentApi.ListItem(item.Key, item.Value))], page.NextCursor));
    });

    public sealed record GetResult(string Key, string Value, long Size,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        DateTimeOffset? ExpiresAt);

    public sealed record DeleteResult(string Key, bool Deleted);

    static CallToolResult Invalid(string message) => ToolResults.Error("invalid-argument", message);

    static CallToolResult NotFound(string key) => ToolResults.Error("not-found", ContentRules.NotFound(key));

    // The store's own refusals become tool errors with the REST API's texts; nothing else is caught here (the SDK turns
    // any other exception into a generic error result without details).
    static async Task<CallToolResult> GuardAsync(string name, Func<Task<CallToolResult>> tool)
    {
        try
        {
            return await tool();
        }
        catch (PayerRequiredException)
        {
            return ToolResults.PayerRequired(name);
        }
        catch (PayerValueTooLargeException e)
        {
            return ToolResults.Error("too-large", ContentRules.TooLarge(e.Size));
        }
        catch (ArgumentException e)
        {
            return Invalid(e.Message);
        }
        catch (Exception e) when (DependencyUnavailableProblems.IsStoreOutage(e))
        {
            return ToolResults.Error("store-unavailable", "The content store (Redis) did not answer; try again shortly.");
        }
    }
}
