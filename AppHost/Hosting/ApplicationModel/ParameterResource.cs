using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Sessions.Hosting.ApplicationModel;

/// <summary>
/// An external value (a password, a key): from configuration <c>Parameters:&lt;name&gt;</c>, else from its
/// default. A generated default with <c>persist</c> is saved in the state folder (Aspire keeps it in user
/// secrets), so that data created with it (a Postgres cluster) keeps working across runs.
/// </summary>
public sealed class ParameterResource : Resource, IManifestExpressionProvider, IValueProvider
{
    readonly Lazy<string> _value;

    public ParameterResource(string name, Func<ParameterDefault?, string> callback, bool secret = false)
        : base(name)
    {
        Secret = secret;
        _value = new Lazy<string>(() => callback(Default));
    }

    public bool Secret { get; }
    public ParameterDefault? Default { get; set; }

    /// <summary>The value; resolved once, on first use.</summary>
    public string Value => _value.Value;

    public string ValueExpression => $"{{{Name}.value}}";

    public ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) => new(Value);
}

/// <summary>A parameter's default value, and how the manifest describes it.</summary>
public abstract class ParameterDefault
{
    public abstract string GetDefaultValue();
    public abstract void WriteToManifest(JsonObject input);
}

public sealed class ConstantParameterDefault(string value) : ParameterDefault
{
    public override string GetDefaultValue() => value;
    public override void WriteToManifest(JsonObject input) => input["default"] = new JsonObject { ["value"] = value };
}

/// <summary>A random value, as Aspire's <c>GenerateParameterDefault</c> (cryptographically random characters).</summary>
public sealed class GenerateParameterDefault : ParameterDefault
{
    const string LowerChars = "abcdefghijklmnopqrstuvwxyz";
    const string UpperChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const string NumericChars = "0123456789";
    const string SpecialChars = "-_.~!@#$%^&*()+=[]{}|:<>?";

    public int MinLength { get; init; } = 22;
    public bool Lower { get; init; } = true;
    public bool Upper { get; init; } = true;
    public bool Numeric { get; init; } = true;
    public bool Special { get; init; } = true;
    public int MinLower { get; init; }
    public int MinUpper { get; init; }
    public int MinNumeric { get; init; }
    public int MinSpecial { get; init; }

    public override string GetDefaultValue()
    {
        var pools = new List<(string Chars, int Min)>();
        if (Lower) pools.Add((LowerChars, MinLower));
        if (Upper) pools.Add((UpperChars, MinUpper));
        if (Numeric) pools.Add((NumericChars, MinNumeric));
        if (Special) pools.Add((SpecialChars, MinSpecial));
        if (pools.Count == 0) throw new InvalidOperationException("A generated parameter needs at least one character class.");

        var chars = new List<char>();
        foreach (var (pool, min) in pools)
            for (var i = 0; i < min; i++) chars.Add(pool[RandomNumberGenerator.GetInt32(pool.Length)]);
        var all = string.Concat(pools.Select(p => p.Chars));
        while (chars.Count < MinLength) chars.Add(all[RandomNumberGenerator.GetInt32(all.Length)]);
        // Shuffle so that the required characters are not all at the start.
        var array = chars.ToArray();
        RandomNumberGenerator.Shuffle(array.AsSpan());
        return new string(array);
    }

    public override void WriteToManifest(JsonObject input)
    {
        var generate = new JsonObject { ["minLength"] = MinLength };
        if (!Lower) generate["lower"] = false;
        if (!Upper) generate["upper"] = false;
        if (!Numeric) generate["numeric"] = false;
        if (!Special) generate["special"] = false;
        if (MinLower > 0) generate["minLower"] = MinLower;
        if (MinUpper > 0) generate["minUpper"] = MinUpper;
        if (MinNumeric > 0) generate["minNumeric"] = MinNumeric;
        if (MinSpecial > 0) generate["minSpecial"] = MinSpecial;
        input["default"] = new JsonObject { ["generate"] = generate };
    }
}

public sealed class MissingParameterValueException(string message) : DistributedApplicationException(message);

public class DistributedApplicationException : Exception
{
    public DistributedApplicationException(string message) : base(message) { }
    public DistributedApplicationException(string message, Exception inner) : base(message, inner) { }
}
