using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Sessions.Hosting.ApplicationModel;

namespace Sessions.Hosting.Orchestration;

/// <summary>
/// The terminal view of the application (the dashboard's part): every resource's output prefixed by its
/// name, the resource table once the stack is up and after every change, and the way in.
/// </summary>
internal sealed partial class ConsoleReporter : IAsyncDisposable
{
    static readonly string[] Palette = ["36", "33", "35", "32", "34", "96", "93", "95", "92", "94"];
    static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(250);
    static readonly TimeSpan SlowStartWarning = TimeSpan.FromSeconds(60);

    readonly DistributedApplicationModel _model;
    readonly ResourceNotificationService _notifications;
    readonly ResourceLoggerService _logs;
    readonly TextWriter _out;
    readonly bool _color;
    readonly Lock _lock = new();
    readonly Dictionary<string, CustomResourceSnapshot> _rows = [];
    readonly Dictionary<string, string> _colors = [];
    readonly int _nameWidth;
    readonly Stopwatch _sinceStart = Stopwatch.StartNew();
    readonly CancellationTokenSource _stop = new();
    Task? _watch;
    bool _up;
    bool _shuttingDown;
    int _printScheduled;

    public ConsoleReporter(DistributedApplicationModel model, ResourceNotificationService notifications, ResourceLoggerService logs, TextWriter? output = null)
    {
        _model = model;
        _notifications = notifications;
        _logs = logs;
        _out = output ?? Console.Out;
        _color = output is null && !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null
            && Environment.GetEnvironmentVariable("TERM") != "dumb";
        var shown = Shown(model).ToArray();
        _nameWidth = shown.Max(r => r.Name.Length);
        for (var i = 0; i < shown.Length; i++) _colors[shown[i].Name] = Palette[i % Palette.Length];
    }

    /// <summary>The resources the table shows: everything but parameters.</summary>
    public static IEnumerable<IResource> Shown(DistributedApplicationModel model) => model.Resources.Where(r => r is not ParameterResource);

    public void Start()
    {
        _logs.LineWritten += OnLine;
        _watch = WatchAsync(_stop.Token);
    }

    /// <summary>From now on only the final table is printed.</summary>
    public void BeginShutdown()
    {
        lock (_lock) _shuttingDown = true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_watch is not null) await _watch.ConfigureAwait(false);
        _logs.LineWritten -= OnLine;
        // Take the final states even if the watch loop had not seen them yet.
        lock (_lock)
            foreach (var resourceEvent in _notifications.GetCurrentStates()) _rows[resourceEvent.ResourceId] = resourceEvent.Snapshot;
        PrintTable("Resources (stopped)");
    }

    void OnLine(LogLine line)
    {
        var content = _color ? line.Content : AnsiEscape().Replace(line.Content, "");
        var name = line.ResourceName.PadRight(_nameWidth);
        var text = _color && _colors.TryGetValue(line.ResourceName, out var color)
            ? $"\e[{color}m{name} |\e[0m {content}\e[0m"
            : $"{name} | {content}";
        lock (_lock) _out.WriteLine(text);
    }

    async Task WatchAsync(CancellationToken cancellationToken)
    {
        var slowStart = Task.Delay(SlowStartWarning, cancellationToken);
        try
        {
            await foreach (var resourceEvent in _notifications.WatchAsync(cancellationToken).ConfigureAwait(false))
            {
                if (resourceEvent.Resource is ParameterResource) continue;
                bool changed, printNow;
                lock (_lock)
                {
                    changed = !_rows.TryGetValue(resourceEvent.ResourceId, out var previous) || Key(previous) != Key(resourceEvent.Snapshot);
                    _rows[resourceEvent.ResourceId] = resourceEvent.Snapshot;
                    printNow = !_up && !_shuttingDown && (Settled() || slowStart.IsCompleted);
                    if (printNow) _up = true;
                }
                if (printNow)
                {
                    PrintTable(null);
                    PrintBanner();
                }
                else if (changed && _up) SchedulePrint();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    static (string, HealthStatus?, int?, int?) Key(CustomResourceSnapshot s) => (s.State, s.HealthStatus, s.ExitCode, s.Pid);

    // Up: every resource is Running and Healthy, or has ended (a failure is reported, not waited for).
    bool Settled() => Shown(_model).All(r => _rows.TryGetValue(r.Name, out var s)
        && (ResourceNotificationService.IsRunningAndHealthy(s) || KnownResourceStates.IsTerminal(s.State)));

    void SchedulePrint()
    {
        if (Interlocked.Exchange(ref _printScheduled, 1) == 1) return;
        _ = Task.Delay(Debounce).ContinueWith(_ =>
        {
            Interlocked.Exchange(ref _printScheduled, 0);
            bool shuttingDown;
            lock (_lock) shuttingDown = _shuttingDown;
            if (!shuttingDown) PrintTable(null);
        }, TaskScheduler.Default);
    }

    void PrintTable(string? title)
    {
        var table = new StringBuilder();
        lock (_lock)
        {
            var rows = Shown(_model).Select(r => (Resource: r, Snapshot: _rows.GetValueOrDefault(r.Name))).ToArray();
            var header = new[] { "NAME", "TYPE", "STATE", "HEALTH", "ENDPOINT", "PID" };
            var cells = rows.Select(r => new[]
            {
                r.Resource.Name,
                r.Snapshot?.ResourceType ?? ResourceNotificationService.ResourceTypeName(r.Resource),
                r.Snapshot is null ? KnownResourceStates.NotStarted : ResourceNotificationService.DescribeState(r.Snapshot),
                r.Snapshot?.HealthStatus?.ToString() ?? "-",
                EndpointText(r.Resource),
                r.Snapshot?.Pid?.ToString(CultureInfo.InvariantCulture) ?? "-",
            }).ToArray();
            var widths = Enumerable.Range(0, header.Length).Select(i => cells.Select(c => c[i].Length).Append(header[i].Length).Max()).ToArray();

            table.AppendLine();
            table.AppendLine(Paint("1", $"{title ?? "Resources"} ({DateTime.Now:HH:mm:ss})"));
            table.AppendLine(Paint("2", "  " + Row(header, widths)));
            for (var i = 0; i < cells.Length; i++)
                table.AppendLine("  " + Paint(StateColor(rows[i].Snapshot), Row(cells[i], widths)));
            _out.Write(table.ToString());
        }
    }

    void PrintBanner()
    {
        lock (_lock) PrintBannerLocked();
    }

    void PrintBannerLocked()
    {
        var external = _model.Resources.SelectMany(r => r.GetEndpointAnnotations().Where(e => e.IsExternal && e.AllocatedEndpoint is not null)
            .Select(e => (Resource: r, Url: e.AllocatedEndpoint!.UriString))).ToArray();
        var failed = Shown(_model).Where(r => _rows.TryGetValue(r.Name, out var s) && !ResourceNotificationService.IsRunningAndHealthy(s)).ToArray();
        var seconds = _sinceStart.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
        var banner = new StringBuilder().AppendLine();
        if (failed.Length == 0)
            banner.AppendLine(Paint("1;32", $"Stack is up in {seconds} s: {Shown(_model).Count()} resources running and healthy."));
        else
            banner.AppendLine(Paint("1;31", $"Stack started in {seconds} s with problems: {string.Join(", ", failed.Select(r => $"{r.Name} {ResourceNotificationService.DescribeState(_rows[r.Name])}"))}."));
        foreach (var (resource, url) in external)
            banner.AppendLine(Paint("1;36", $"  ==> {resource.Name}: {url}"));
        banner.AppendLine(Paint("2", "Press Ctrl+C to stop everything."));
        _out.Write(banner.ToString());
    }

    static string EndpointText(IResource resource) => resource switch
    {
        PostgresDatabaseResource database => $"{database.Parent.Name}/{database.DatabaseName}",
        _ => string.Join(", ", resource.GetEndpointAnnotations().Select(e => e.AllocatedEndpoint?.UriString ?? $"{e.UriScheme}://-")) is { Length: > 0 } text ? text : "-",
    };

    static string Row(string[] cells, int[] widths)
        => string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i])));

    static string StateColor(CustomResourceSnapshot? snapshot) => snapshot switch
    {
        null => "0",
        _ when ResourceNotificationService.IsRunningAndHealthy(snapshot) => "32",
        { State: KnownResourceStates.Exited or KnownResourceStates.FailedToStart } => "31",
        { State: KnownResourceStates.Finished } => "2",
        _ => "33",
    };

    string Paint(string code, string text) => _color ? $"\e[{code}m{text}\e[0m" : text;

    [GeneratedRegex(@"\e\[[0-9;?]*[ -/]*[@-~]")]
    private static partial Regex AnsiEscape();
}
