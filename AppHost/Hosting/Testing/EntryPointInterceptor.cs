using System.Reflection;

namespace Sessions.Hosting.Testing;

/// <summary>
/// Runs an AppHost's entry point (its Program.cs) and takes its builder away when it calls <c>Build()</c>,
/// as Aspire.Hosting.Testing and WebApplicationFactory do: tests get exactly the model Program.cs wires,
/// plus their own settings (appended to the command line, so they win).
/// </summary>
internal sealed class EntryPointInterceptor(string[] args, Assembly appHostAssembly)
{
    static readonly AsyncLocal<EntryPointInterceptor?> CurrentInterceptor = new();

    readonly TaskCompletionSource<DistributedApplicationBuilder> _captured = new(TaskCreationOptions.RunContinuationsAsynchronously);
    int _captureCount;

    /// <summary>The interceptor of the entry point running on this logical thread, if any.</summary>
    public static EntryPointInterceptor? Current => CurrentInterceptor.Value;

    public string[] Args { get; } = args;
    public Assembly AppHostAssembly { get; } = appHostAssembly;

    /// <summary>Called by <c>Build()</c>: the first builder is handed to the test, and Program.cs stops there.</summary>
    public bool TryCapture(DistributedApplicationBuilder builder)
    {
        if (Interlocked.Exchange(ref _captureCount, 1) == 1) return false;
        _captured.TrySetResult(builder);
        return true;
    }

    public async Task<DistributedApplicationBuilder> RunEntryPointAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var entryPoint = AppHostAssembly.EntryPoint
            ?? throw new InvalidOperationException($"{AppHostAssembly.GetName().Name} has no entry point.");
        var thread = new Thread(() =>
        {
            CurrentInterceptor.Value = this;
            try
            {
                var parameters = entryPoint.GetParameters().Length == 0 ? null : new object[] { Array.Empty<string>() };
                if (entryPoint.Invoke(null, parameters) is Task task) task.GetAwaiter().GetResult();
                _captured.TrySetException(new InvalidOperationException("The AppHost's entry point returned without calling Build()."));
            }
            catch (Exception e) when (Unwrap(e) is EntryPointInterceptedException)
            {
            }
            catch (Exception e)
            {
                _captured.TrySetException(Unwrap(e));
            }
        })
        {
            IsBackground = true,
            Name = "AppHost entry point",
        };
        thread.Start();
        return await _captured.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
    }

    static Exception Unwrap(Exception e) => e is TargetInvocationException { InnerException: { } inner } ? inner : e;
}

/// <summary>Thrown by <c>Build()</c> under a test, to stop the AppHost's Program.cs once the model is captured.</summary>
public sealed class EntryPointInterceptedException() : Exception("The AppHost's builder was taken over by DistributedApplicationTestingBuilder.");
