using System.Diagnostics;

namespace Deploy.Tests;

static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Deploy => Path.Combine(Root, "deploy");

    static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Sessions.sln"))) return directory.FullName;
        throw new InvalidOperationException("Sessions.sln not found above the test assembly");
    }

    /// <summary>
    /// The AppHost's manifest, as <c>deploy/generate.sh</c> gets it: the built AppHost (same configuration as these tests)
    /// with <c>--publisher manifest</c> and a temporary state folder.
    /// </summary>
    public static async Task<string> PublishManifestAsync(CancellationToken cancellationToken)
    {
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        var appHost = Path.Combine(Root, "AppHost", "bin", configuration, "net10.0", "AppHost.dll");
        Assert.True(File.Exists(appHost), $"{appHost} is not built");
        var folder = Directory.CreateTempSubdirectory("deploy-manifest-").FullName;
        try
        {
            var output = Path.Combine(folder, "aspire-manifest.json");
            var start = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = Path.Combine(Root, "AppHost"),
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var arg in new[] { appHost, "--publisher", "manifest", "--output-path", output, "--state-dir", Path.Combine(folder, "state") })
                start.ArgumentList.Add(arg);
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(120));
            try { await process.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException) { process.Kill(entireProcessTree: true); throw; }
            Assert.True(process.ExitCode == 0, $"the AppHost's manifest publisher exited with {process.ExitCode}:\n{await stdout}\n{await stderr}");
            return await File.ReadAllTextAsync(output, cancellationToken);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
