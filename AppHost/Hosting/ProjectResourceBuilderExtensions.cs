using Sessions.Hosting.ApplicationModel;

namespace Sessions.Hosting;

public static class ProjectResourceBuilderExtensions
{
    /// <summary>Adds a .NET project described by a generated <c>Projects.*</c> class, with its default launch profile.</summary>
    public static IResourceBuilder<ProjectResource> AddProject<TProject>(this IDistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new()
        => builder.AddProjectCore(name, new TProject(), useLaunchProfile: true, launchProfileName: null);

    /// <summary>Adds a .NET project with the named launch profile, or none when <paramref name="launchProfileName"/> is null.</summary>
    public static IResourceBuilder<ProjectResource> AddProject<TProject>(this IDistributedApplicationBuilder builder, string name, string? launchProfileName)
        where TProject : IProjectMetadata, new()
        => builder.AddProjectCore(name, new TProject(), useLaunchProfile: launchProfileName is not null, launchProfileName);

    /// <summary>Adds a .NET project by path (relative to the AppHost folder).</summary>
    public static IResourceBuilder<ProjectResource> AddProject(this IDistributedApplicationBuilder builder, string name, string projectPath)
    {
        var fullPath = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, projectPath));
        return builder.AddProjectCore(name, new ProjectMetadata(fullPath), useLaunchProfile: true, launchProfileName: null);
    }

    static IResourceBuilder<ProjectResource> AddProjectCore(this IDistributedApplicationBuilder builder, string name,
        IProjectMetadata metadata, bool useLaunchProfile, string? launchProfileName)
    {
        var project = builder.AddResource(new ProjectResource(name)).WithAnnotation(metadata);
        if (!useLaunchProfile || LaunchProfileAnnotation.Read(metadata.ProjectPath, launchProfileName) is not { } profile)
            return project;

        project.WithAnnotation(profile);
        // One endpoint per applicationUrl scheme, named after it, as Aspire does. Aspire would put its proxy
        // on the profile's port; without a proxy the service listens on a free port unless the AppHost pins one.
        foreach (var url in profile.ApplicationUrls.DistinctBy(u => u.Scheme))
            project.WithAnnotation(new EndpointAnnotation(url.Scheme, url.Scheme, "http"));
        return project;
    }
}
