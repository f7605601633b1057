using Microsoft.Extensions.Configuration;

using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Sessions.AppHost.State;

/// <summary>
/// The stack's state on disk (<c>.state/</c> at the repository root unless <c>--state-dir</c> says otherwise): the data
/// folders of the local Redis and Postgres and <c>parameters.json</c>, the generated secrets (passwords, keys) that
/// protect that data. Both live and are reset together (<c>--reset-state</c>): a Postgres cluster initialised with one
/// password never sees another. Generated parameters are kept here rather than in user secrets, so that test runs
/// (each with its own temporary state folder) never write into the developer's secrets.
/// </summary>
public sealed class StateFolder
{
    static readonly ConditionalWeakTable<IDistributedApplicationBuilder, StateFolder> Folders = [];

    StateFolder(string root, bool ephemeral)
    {
        Root = root;
        Ephemeral = ephemeral;
    }

    public string Root { get; }

    /// <summary>Throw-away state (tests): servers trade durability for speed.</summary>
    public bool Ephemeral { get; }

    public string ParametersFile => Path.Combine(Root, "parameters.json");

    public string PathFor(string name) => Path.Combine(Root, name);

    /// <summary>The builder's state folder (opened by <see cref="StateFolderExtensions.AddStateFolder"/>).</summary>
    public static StateFolder Of(IDistributedApplicationBuilder builder) =>
        Folders.TryGetValue(builder, out var folder) ? folder : throw new InvalidOperationException("Call builder.AddStateFolder() first.");

    internal static StateFolder Open(IDistributedApplicationBuilder builder)
    {
        var configured = builder.Configuration["AppHost:StateDirectory"];
        var root = Path.GetFullPath(string.IsNullOrEmpty(configured)
            ? Path.Combine(builder.AppHostDirectory, "..", ".state")
            : Path.Combine(Environment.CurrentDirectory, configured));
        var folder = new StateFolder(root, builder.Configuration.GetValue<bool>("AppHost:EphemeralState"));
        Folders.AddOrUpdate(builder, folder);
        if (!builder.ExecutionContext.IsRunMode) return folder;   // the manifest touches no state
        if (builder.Configuration.GetValue<bool>("AppHost:ResetState")) folder.Reset();
        Directory.CreateDirectory(root);
        // Others must traverse it: as root, Postgres runs as the postgres user inside it.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
        return folder;
    }

    /// <summary>Deletes the folder's content; refuses a folder that looks like source (a wrong <c>--state-dir</c>).</summary>
    public void Reset()
    {
        if (!Directory.Exists(Root)) return;
        if (Directory.EnumerateFileSystemEntries(Root).Any(e => e.EndsWith(".csproj", StringComparison.Ordinal) || e.EndsWith(".sln", StringComparison.Ordinal) || Path.GetFileName(e) == ".git"))
            throw new DistributedApplicationException($"Refusing to reset '{Root}': it holds source files, not the stack's state.");
        foreach (var directory in Directory.GetDirectories(Root)) Directory.Delete(directory, recursive: true);
        foreach (var file in Directory.GetFiles(Root)) File.Delete(file);
    }

    readonly Lock _parametersLock = new();

    /// <summary>The kept value of a parameter, or <paramref name="generate"/>'s, which is kept from then on.</summary>
    internal string GetOrAddParameter(string name, Func<string> generate)
    {
        lock (_parametersLock)
        {
            var values = File.Exists(ParametersFile)
                ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(ParametersFile)) ?? []
                : [];
            if (values.TryGetValue(name, out var kept)) return kept;
            values[name] = generate();
            File.WriteAllText(ParametersFile, JsonSerializer.Serialize(values, new JsonSerializerOptions { WriteIndented = true }));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(ParametersFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            return values[name];
        }
    }

    internal bool TryGetParameter(string name, out string? value)
    {
        lock (_parametersLock)
        {
            value = null;
            return File.Exists(ParametersFile)
                && (JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(ParametersFile)) ?? []).TryGetValue(name, out value);
        }
    }
}
