using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sessions.Hosting.Orchestration;

/// <summary>
/// The git-ignored folder that plays the part of Docker volumes and user secrets:
/// <c>parameters.json</c> (generated parameters), one folder per data volume (<c>redis-data</c>,
/// <c>postgres-data</c>) and <c>scratch/</c> for data that lives only as long as one run.
/// </summary>
public sealed class StateFolder
{
    static readonly Lock ParametersLock = new();

    public StateFolder(AppHostOptions options, string appHostDirectory)
    {
        Root = Path.GetFullPath(options.StateDirectory is { Length: > 0 } configured
            ? Path.Combine(appHostDirectory, configured)
            : Path.Combine(FindSolutionDirectory(appHostDirectory), ".state"));
    }

    public string Root { get; }
    public string ParametersFile => Path.Combine(Root, "parameters.json");

    public string VolumePath(string volumeName) => Path.Combine(Root, volumeName);

    /// <summary>A folder for one resource's throw-away data in this run, removed by <see cref="DeleteScratch"/>.</summary>
    public string ScratchPath(string resourceName) => Path.Combine(Root, "scratch", $"{Environment.ProcessId}-{resourceName}");

    /// <summary>Creates the folder; with <paramref name="reset"/> deletes it first (fresh data, new passwords).</summary>
    public void Prepare(bool reset)
    {
        if (reset && Directory.Exists(Root))
        {
            // Never wipe a source folder because of a mistyped --state-dir.
            if (Directory.EnumerateFiles(Root, "*.*proj").Any() || Directory.EnumerateFiles(Root, "*.sln*").Any() || Directory.Exists(Path.Combine(Root, ".git")))
                throw new InvalidOperationException($"Refusing to reset '{Root}': it looks like a source folder, not a state folder.");
            Directory.Delete(Root, recursive: true);
        }
        CreateReachable(Root);
        DeleteOrphanedScratch();
    }

    /// <summary>Creates a folder other users can traverse: as root, PostgreSQL runs as the postgres user.</summary>
    public static void CreateReachable(string path)
    {
        Directory.CreateDirectory(path);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
    }

    public void DeleteScratch()
    {
        var scratch = Path.Combine(Root, "scratch");
        if (!Directory.Exists(scratch)) return;
        foreach (var folder in Directory.GetDirectories(scratch, $"{Environment.ProcessId}-*"))
            TryDelete(folder);
    }

    // Scratch folders of AppHosts that were killed.
    void DeleteOrphanedScratch()
    {
        var scratch = Path.Combine(Root, "scratch");
        if (!Directory.Exists(scratch)) return;
        foreach (var folder in Directory.GetDirectories(scratch))
        {
            var name = Path.GetFileName(folder);
            if (int.TryParse(name.Split('-')[0], out var pid) && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
                TryDelete(folder);
        }
    }

    /// <summary>The persisted value of a generated parameter, generated and saved on first use.</summary>
    public string GetOrAddParameter(string name, Func<string> generate)
    {
        lock (ParametersLock)
        {
            var values = File.Exists(ParametersFile)
                ? JsonNode.Parse(File.ReadAllText(ParametersFile)) as JsonObject ?? []
                : [];
            if (values[name]?.GetValue<string>() is { Length: > 0 } existing) return existing;

            var value = generate();
            values[name] = value;
            CreateReachable(Root);
            var temp = ParametersFile + ".tmp";
            File.WriteAllText(temp, values.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Move(temp, ParametersFile, overwrite: true);
            return value;
        }
    }

    static void TryDelete(string folder)
    {
        try { Directory.Delete(folder, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    static string FindSolutionDirectory(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (dir.EnumerateFiles("*.sln").Any() || dir.EnumerateFiles("*.slnx").Any())
                return dir.FullName;
        return start;
    }
}
