using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace Sessions.AppHost.State;

public static class StateFolderExtensions
{
    /// <summary>
    /// Opens the state folder (resets it with <c>--reset-state</c>) and makes every generated parameter
    /// (<c>AddParameter(name, new GenerateParameterDefault { ... })</c>, the server passwords) persistent in its
    /// <c>parameters.json</c>: Aspire reads a parameter from configuration key <c>Parameters:&lt;name&gt;</c>; the lowest-priority
    /// source answers it from the file, generating and keeping the value on first use. Command line and environment win.
    /// Run mode only: the manifest keeps the generate instructions.
    /// </summary>
    public static StateFolder AddStateFolder(this IDistributedApplicationBuilder builder)
    {
        var folder = StateFolder.Open(builder);
        if (builder.ExecutionContext.IsRunMode)
            builder.Configuration.Sources.Insert(0, new KeptParametersSource(folder, builder.Resources));
        return folder;
    }

    sealed class KeptParametersSource(StateFolder folder, IResourceCollection resources) : IConfigurationSource, IConfigurationProvider
    {
        const string Prefix = "Parameters:";

        public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

        public bool TryGet(string key, out string? value)
        {
            value = null;
            if (!key.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)) return false;
            var name = key[Prefix.Length..];
            if (folder.TryGetParameter(name, out value)) return true;
            var parameter = resources.OfType<ParameterResource>().FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
            if (parameter?.Default is not { } generator) return false;
            value = folder.GetOrAddParameter(parameter.Name, generator.GetDefaultValue);
            return true;
        }

        public void Set(string key, string? value) { }

        public IChangeToken GetReloadToken() => new CancellationChangeToken(CancellationToken.None);

        public void Load() { }

        public IEnumerable<string> GetChildKeys(IEnumerable<string> earlierKeys, string? parentPath) => earlierKeys;
    }
}
