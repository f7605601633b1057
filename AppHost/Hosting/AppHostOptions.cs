using Microsoft.Extensions.Configuration;

namespace Sessions.Hosting;

/// <summary>
/// Settings of the local orchestrator, from the configuration section <c>AppHost</c>: command line
/// (<c>--AppHost:RandomizePorts=true</c>, or the switches below), environment (<c>AppHost__ResetState=true</c>)
/// or appsettings.json.
/// </summary>
public sealed class AppHostOptions
{
    public const string SectionName = "AppHost";

    /// <summary>Where data volumes and generated parameters live. Default: <c>.state</c> in the solution folder.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>Delete the state folder before starting (<c>--reset-state</c>): fresh databases, new passwords.</summary>
    public bool ResetState { get; set; }

    /// <summary>Ignore fixed ports (the gate's 8402) and use free ones, so that runs can overlap (tests).</summary>
    public bool RandomizePorts { get; set; }

    /// <summary>No resource table, no echo of resource output (tests): logs stay in <c>ResourceLoggerService</c>.</summary>
    public bool Headless { get; set; }

    /// <summary>Throw-away state: Postgres without fsync, for tests.</summary>
    public bool EphemeralState { get; set; }

    /// <summary>Time for stopping everything on Ctrl+C/SIGTERM, after which what is left is killed.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public static AppHostOptions From(IConfiguration configuration)
    {
        var options = new AppHostOptions();
        configuration.GetSection(SectionName).Bind(options);
        return options;
    }
}

/// <summary>Command line switches of the AppHost, turned into configuration keys.</summary>
internal static class AppHostArguments
{
    static readonly Dictionary<string, string> Flags = new(StringComparer.OrdinalIgnoreCase)
    {
        ["--reset-state"] = "AppHost:ResetState",
        ["--randomize-ports"] = "AppHost:RandomizePorts",
        ["--headless"] = "AppHost:Headless",
    };

    // Aspire's own switches (DistributedApplicationBuilder's switch mappings).
    static readonly Dictionary<string, string> Options = new(StringComparer.OrdinalIgnoreCase)
    {
        ["--publisher"] = "Publishing:Publisher",
        ["--output-path"] = "Publishing:OutputPath",
        ["--state-dir"] = "AppHost:StateDirectory",
    };

    public static string[] Normalize(IEnumerable<string> args)
    {
        var result = new List<string>();
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var arg = e.Current;
            if (Flags.TryGetValue(arg, out var flagKey))
                result.Add($"--{flagKey}=true");
            else if (Options.TryGetValue(arg, out var optionKey) && e.MoveNext())
                result.Add($"--{optionKey}={e.Current}");
            else if (arg.IndexOf('=') is > 0 and var eq && Options.TryGetValue(arg[..eq], out var key))
                result.Add($"--{key}={arg[(eq + 1)..]}");
            else
                result.Add(arg);
        }
        return result.ToArray();
    }
}
