namespace Sessions.AppHost.State;

/// <summary>The AppHost's own switches, turned into configuration keys before Aspire reads the command line.</summary>
public static class AppHostArguments
{
    /// <example><c>--reset-state</c> → <c>--AppHost:ResetState=true</c>; <c>--state-dir X</c> → <c>--AppHost:StateDirectory=X</c>;
    /// <c>--randomize-ports</c> → <c>--DcpPublisher:RandomizePorts=true</c> (every endpoint on a free port, the gate's 8402 too).</example>
    public static string[] Normalize(string[] args)
    {
        var result = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var (name, value) = args[i].Split('=', 2) is [var n, var v] ? (n, (string?)v) : (args[i], null);
            switch (name)
            {
                case "--reset-state": result.Add($"--AppHost:ResetState={value ?? "true"}"); break;
                case "--randomize-ports": result.Add($"--DcpPublisher:RandomizePorts={value ?? "true"}"); break;
                case "--state-dir" when value is not null: result.Add($"--AppHost:StateDirectory={value}"); break;
                case "--state-dir" when i + 1 < args.Length: result.Add($"--AppHost:StateDirectory={args[++i]}"); break;
                default: result.Add(args[i]); break;
            }
        }
        // Stopping waits until DCP has stopped every process (Aspire's default returns at once and lets DCP reap them in the
        // background, which takes up to ~20 s); Aspire.Hosting.Testing sets the same.
        if (!result.Any(a => a.StartsWith("--DcpPublisher:WaitForResourceCleanup", StringComparison.OrdinalIgnoreCase)))
            result.Add("--DcpPublisher:WaitForResourceCleanup=true");
        return [.. result];
    }
}
