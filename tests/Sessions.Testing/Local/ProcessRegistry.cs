namespace Sessions.Testing.Local;

/// <summary>
/// Pid files for every child process, one folder per parent. A parent that dies without stopping its
/// children (SIGKILL, crash) leaves its folder behind; <see cref="ReapOrphans"/> stops those children the
/// next time any parent starts, and test scripts call it after a run.
/// Folder: <c>$SESSIONS_PROCESS_REGISTRY</c> or <c>$TMPDIR/sessions-processes</c>.
/// </summary>
public static class ProcessRegistry
{
    public static string Root { get; } = Environment.GetEnvironmentVariable("SESSIONS_PROCESS_REGISTRY")
        ?? Path.Combine(Path.GetTempPath(), "sessions-processes");

    static readonly string OwnFolder = Path.Combine(Root, Environment.ProcessId.ToString());

    internal static string? Register(int pid, string name)
    {
        try
        {
            Directory.CreateDirectory(OwnFolder);
            var file = Path.Combine(OwnFolder, $"{pid}.pid");
            File.WriteAllText(file, $"{pid}\n{name}\n{StartTimeOf(pid)}\n");
            return file;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Kills children whose parent is gone. Returns how many were signalled.</summary>
    public static int ReapOrphans()
    {
        if (!Directory.Exists(Root)) return 0;
        var killed = 0;
        foreach (var folder in Directory.GetDirectories(Root))
        {
            if (int.TryParse(Path.GetFileName(folder), out var parent) && parent != Environment.ProcessId && IsAlive(parent))
                continue;
            if (parent == Environment.ProcessId) continue;
            foreach (var file in Directory.GetFiles(folder, "*.pid"))
            {
                var lines = File.ReadAllLines(file);
                // The start time guards against a recycled pid now owned by an unrelated process.
                if (lines.Length >= 3 && int.TryParse(lines[0], out var pid) && IsAlive(pid) && StartTimeOf(pid) == lines[2])
                {
                    ManagedProcess.Signal(pid, ManagedProcess.SigKill);
                    killed++;
                }
                File.Delete(file);
            }
            try { Directory.Delete(folder); } catch (IOException) { }
        }
        return killed;
    }

    static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}");

    static string StartTimeOf(int pid)
    {
        try
        {
            // Field 22 of /proc/<pid>/stat is the start time in clock ticks since boot.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[19];
        }
        catch (IOException) { return ""; }
    }
}
