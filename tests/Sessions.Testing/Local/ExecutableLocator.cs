namespace Sessions.Testing.Local;

/// <summary>Finds server executables on PATH or in the usual Debian locations.</summary>
public static class ExecutableLocator
{
    static readonly string[] ExtraDirectories = ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"];

    public static string Find(string name, string installHint)
        => TryFind(name) ?? throw new FileNotFoundException(
            $"'{name}' was not found on PATH, in /usr/lib/postgresql/*/bin or in {string.Join(", ", ExtraDirectories)}. {installHint}");

    public static string? TryFind(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH")?.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries) ?? [];
        foreach (var directory in path.Concat(PostgresBinDirectories()).Concat(ExtraDirectories))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    // Debian installs PostgreSQL server binaries off PATH, one folder per major version; prefer the newest.
    static IEnumerable<string> PostgresBinDirectories()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root)) return [];
        return Directory.GetDirectories(root)
            .Select(d => (Dir: d, Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
            .OrderByDescending(x => x.Version)
            .Select(x => Path.Combine(x.Dir, "bin"));
    }
}
