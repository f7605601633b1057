using System.Text;

namespace AppHost.Tests;

/// <summary>What /proc says about processes the AppHost started (Linux).</summary>
internal static class ProcessInspector
{
    /// <summary>Alive and not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>Pids whose command line mentions <paramref name="text"/> (e.g. a state folder: redis, postgres and its workers).</summary>
    public static IReadOnlyList<int> WithCommandLineContaining(string text)
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId) continue;
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains(text, StringComparison.Ordinal) && IsAlive(pid)) pids.Add(pid);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return pids;
    }

    /// <summary>Direct children (e.g. the service a <c>dotnet run</c> started).</summary>
    public static IReadOnlyList<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                if (stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1] == parent.ToString(System.Globalization.CultureInfo.InvariantCulture)) children.Add(pid);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return children;
    }

    /// <summary>The environment the process was started with.</summary>
    public static IReadOnlyDictionary<string, string> EnvironmentOf(int pid)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Encoding.UTF8.GetString(File.ReadAllBytes($"/proc/{pid}/environ")).Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = entry.IndexOf('=');
            if (eq > 0) environment[entry[..eq]] = entry[(eq + 1)..];
        }
        return environment;
    }

    /// <summary>Waits a little for processes that are being reaped.</summary>
    public static async Task<IReadOnlyList<int>> StillAliveAsync(IEnumerable<int> pids, TimeSpan grace)
    {
        var deadline = DateTime.UtcNow + grace;
        while (true)
        {
            var alive = pids.Where(IsAlive).ToArray();
            if (alive.Length == 0 || DateTime.UtcNow > deadline) return alive;
            await Task.Delay(100);
        }
    }
}
