using Sessions.Deploy;

// deploy/Generator <aspire-manifest.json> <deploy folder>: writes compose.yaml, <server>-init/ and k8s/ in the deploy folder
// from the AppHost's manifest and <deploy folder>/deployment.json (deploy/generate.sh runs it).
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Sessions.Deploy.Generator <aspire-manifest.json> <deploy folder>");
    return 2;
}
try
{
    var files = DeploymentFiles.Generate(File.ReadAllText(args[0]), File.ReadAllText(Path.Combine(args[1], "deployment.json")));
    foreach (var (path, text) in files)
    {
        var full = Path.Combine(args[1], path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
        Console.WriteLine($"wrote {path}");
    }
    return 0;
}
catch (ManifestException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
