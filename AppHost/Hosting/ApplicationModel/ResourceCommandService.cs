using Sessions.Hosting.Orchestration;

namespace Sessions.Hosting.ApplicationModel;

/// <summary>The names of Aspire's built-in resource commands (the dashboard's Stop / Start / Restart buttons).</summary>
public static class KnownResourceCommands
{
    public const string StartCommand = "resource-start";
    public const string StopCommand = "resource-stop";
    public const string RestartCommand = "resource-restart";
}

public sealed record ExecuteCommandResult(bool Success, string? ErrorMessage = null);

/// <summary>
/// Aspire's <c>ResourceCommandService</c> for the built-in commands: stop, start and restart a resource while the rest of the
/// application keeps running (what fault-injection tests need: kill a service, check the others, bring it back).
/// </summary>
public sealed class ResourceCommandService
{
    readonly DistributedApplicationModel _model;
    readonly ApplicationOrchestrator? _orchestrator;

    internal ResourceCommandService(DistributedApplicationModel model, ApplicationOrchestrator? orchestrator) =>
        (_model, _orchestrator) = (model, orchestrator);

    public async Task<ExecuteCommandResult> ExecuteCommandAsync(string resourceName, string commandName, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_orchestrator is null) return new(false, "Commands need a running application (not publish mode).");
        if (_model.Resources.FirstOrDefault(r => r.Name == resourceName) is not { } resource) return new(false, $"No resource '{resourceName}'.");
        switch (commandName)
        {
            case KnownResourceCommands.StopCommand:
                return await _orchestrator.StopResourceAsync(resource).ConfigureAwait(false) ? new(true) : new(false, $"'{resourceName}' is not running.");
            case KnownResourceCommands.StartCommand:
                return _orchestrator.StartResource(resource) ? new(true) : new(false, $"'{resourceName}' is running or cannot be started.");
            case KnownResourceCommands.RestartCommand:
                await _orchestrator.StopResourceAsync(resource).ConfigureAwait(false);
                return _orchestrator.StartResource(resource) ? new(true) : new(false, $"'{resourceName}' cannot be started.");
            default:
                return new(false, $"Unknown command '{commandName}'.");
        }
    }
}
