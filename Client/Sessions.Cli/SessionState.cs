using System.Text.Json;

namespace Sessions.Cli;

/// <summary>A session this CLI opened: its token (shown once, by the open) and the gate it lives at.</summary>
public sealed record StoredSession(string Token, string Gate, DateTimeOffset OpenedAt);

/// <summary>The state file (default sessions.json next to the key, mode 600): the tokens of opened sessions by id.</summary>
public sealed class SessionState
{
    public Dictionary<string, StoredSession> Sessions { get; init; } = [];

    public static SessionState Load(string path)
    {
        if (!File.Exists(path))
            return new SessionState();
        try
        {
            return JsonSerializer.Deserialize<SessionState>(File.ReadAllText(path), JsonSerializerOptions.Web) ?? new SessionState();
        }
        catch (JsonException)
        {
            throw new CliException($"the state file {path} is not valid JSON");
        }
    }

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        SecretFile.Write(path, JsonSerializer.Serialize(this, Output.JsonOptions), overwrite: true);
    }

    /// <summary>The stored token of session <paramref name="id"/>.</summary>
    public string TokenOf(string id, string path) =>
        Sessions.TryGetValue(id, out var stored)
            ? stored.Token
            : throw new CliException($"no token for session {id} in {path} (open it with `sessions session open`, or pass --state)");

    /// <summary>The newest token for this gate: any of the payer's tokens lists all of its sessions.</summary>
    public string AnyToken(Uri gate, string path) =>
        Sessions.Values.Where(s => s.Gate == gate.ToString()).OrderByDescending(s => s.OpenedAt).FirstOrDefault()?.Token
        ?? throw new CliException($"no session token for {gate} in {path}: open a session first (`sessions session open --deposit <atomic>`)");
}

/// <summary>Files only the user may read (keys, tokens): mode 600 from creation.</summary>
public static class SecretFile
{
    public static void Write(string path, string text, bool overwrite)
    {
        var options = new FileStreamOptions { Mode = overwrite ? FileMode.Create : FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var writer = new StreamWriter(path, new System.Text.UTF8Encoding(false), options);
        writer.Write(text);
    }
}
