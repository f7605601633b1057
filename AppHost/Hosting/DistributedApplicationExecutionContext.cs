namespace Sessions.Hosting;

public enum DistributedApplicationOperation
{
    /// <summary>Start the resources (<c>dotnet run --project AppHost</c>).</summary>
    Run,
    /// <summary>Describe them for deployment (<c>--publisher manifest</c>); nothing is started.</summary>
    Publish,
}

/// <summary>Whether the model is being run or published; environment callbacks use it to choose values.</summary>
public sealed class DistributedApplicationExecutionContext(DistributedApplicationOperation operation, string? publisherName = null)
{
    public DistributedApplicationOperation Operation { get; } = operation;
    public string? PublisherName { get; } = publisherName;
    public bool IsRunMode => Operation == DistributedApplicationOperation.Run;
    public bool IsPublishMode => Operation == DistributedApplicationOperation.Publish;
}
