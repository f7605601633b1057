using Sessions.Hosting.ApplicationModel;
using Sessions.Hosting.Orchestration;

namespace Sessions.Hosting;

public static class ParameterResourceBuilderExtensions
{
    /// <summary>A parameter whose value comes from configuration <c>Parameters:{name}</c> (required).</summary>
    public static IResourceBuilder<ParameterResource> AddParameter(this IDistributedApplicationBuilder builder, string name, bool secret = false)
        => builder.AddParameterCore(name, defaultValue: null, secret, persist: false);

    /// <summary>A parameter with a constant default, overridable with <c>Parameters:{name}</c>.</summary>
    public static IResourceBuilder<ParameterResource> AddParameter(this IDistributedApplicationBuilder builder, string name, string value, bool secret = false)
        => builder.AddParameterCore(name, new ConstantParameterDefault(value), secret, persist: false);

    /// <summary>
    /// A parameter with a default (e.g. <see cref="GenerateParameterDefault"/>); with <paramref name="persist"/>
    /// the generated value is saved in the state folder and reused by later runs.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddParameter(this IDistributedApplicationBuilder builder, string name, ParameterDefault value, bool secret = false, bool persist = false)
        => builder.AddParameterCore(name, value, secret, persist);

    /// <summary>The generated, persisted password Aspire gives a server (<c>{name}-password</c>): letters and digits only,
    /// so that it fits unquoted in connection strings and URIs.</summary>
    internal static IResourceBuilder<ParameterResource> AddDefaultPasswordParameter(this IDistributedApplicationBuilder builder, string name)
        => builder.AddParameterCore(name, new GenerateParameterDefault { MinLength = 22, Special = false }, secret: true, persist: true);

    static IResourceBuilder<ParameterResource> AddParameterCore(this IDistributedApplicationBuilder builder, string name,
        ParameterDefault? defaultValue, bool secret, bool persist)
    {
        var configuration = builder.Configuration;
        var appHostDirectory = builder.AppHostDirectory;
        var parameter = new ParameterResource(name, @default =>
        {
            var configured = configuration[$"Parameters:{name}"];
            if (!string.IsNullOrEmpty(configured)) return configured;
            if (@default is null)
                throw new MissingParameterValueException($"Parameter resource could not be used because configuration key 'Parameters:{name}' is missing and the Parameter has no default value.");
            if (!persist) return @default.GetDefaultValue();
            var state = new StateFolder(AppHostOptions.From(configuration), appHostDirectory);
            return state.GetOrAddParameter(name, @default.GetDefaultValue);
        }, secret)
        {
            Default = defaultValue,
        };
        return builder.AddResource(parameter);
    }
}
