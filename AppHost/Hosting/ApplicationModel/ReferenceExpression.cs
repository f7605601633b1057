using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Sessions.Hosting.ApplicationModel;

/// <summary>A value known at run time (an allocated port, a generated password, a connection string).</summary>
public interface IValueProvider
{
    ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default);
}

/// <summary>How a value is written in the manifest, e.g. <c>{redis.bindings.tcp.port}</c>.</summary>
public interface IManifestExpressionProvider
{
    string ValueExpression { get; }
}

/// <summary>The other values or resources a value is made of (parameters, endpoints).</summary>
public interface IValueWithReferences
{
    IEnumerable<object> References { get; }
}

/// <summary>
/// An interpolated string whose holes are values: it evaluates to the run-time value or to its manifest
/// expression, as Aspire's <c>ReferenceExpression</c> (e.g. connection strings built from endpoints and parameters).
/// </summary>
public sealed class ReferenceExpression : IManifestExpressionProvider, IValueProvider, IValueWithReferences
{
    readonly string _format;
    readonly IReadOnlyList<ValueHole> _holes;

    ReferenceExpression(string format, IReadOnlyList<ValueHole> holes)
    {
        _format = format;
        _holes = holes;
    }

    /// <summary>The composite format, holes as <c>{0}</c>, <c>{1}</c>...</summary>
    public string Format => _format;

    public IReadOnlyList<object> ValueProviders => _holes.Select(h => h.Value).ToArray();

    public IEnumerable<object> References => ValueProviders;

    public string ValueExpression
        => string.Format(CultureInfo.InvariantCulture, _format, _holes.Select(h => (object)ManifestExpression(h.Value)).ToArray());

    public async ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default)
    {
        var values = new object?[_holes.Count];
        for (var i = 0; i < _holes.Count; i++)
        {
            var value = await ((IValueProvider)_holes[i].Value).GetValueAsync(cancellationToken).ConfigureAwait(false);
            values[i] = _holes[i].Format == "uri" && value is not null ? Uri.EscapeDataString(value) : value;
        }
        return string.Format(CultureInfo.InvariantCulture, _format, values);
    }

    public static ReferenceExpression Create(in ExpressionInterpolatedStringHandler handler) => handler.Build();

    public override string ToString() => ValueExpression;

    static string ManifestExpression(object value) => value is IManifestExpressionProvider p
        ? p.ValueExpression
        : throw new InvalidOperationException($"{value.GetType().Name} has no manifest expression.");

    readonly record struct ValueHole(object Value, string? Format);

    [InterpolatedStringHandler]
    public ref struct ExpressionInterpolatedStringHandler
    {
        readonly StringBuilder _format;
        readonly List<ValueHole> _holes;

        public ExpressionInterpolatedStringHandler(int literalLength, int formattedCount)
        {
            _format = new StringBuilder(literalLength + formattedCount * 4);
            _holes = new List<ValueHole>(formattedCount);
        }

        public readonly void AppendLiteral(string value) => _format.Append(value.Replace("{", "{{").Replace("}", "}}"));

        /// <summary>Strings are literals; value providers become holes. The format "uri" URL-encodes the value.</summary>
        public readonly void AppendFormatted<T>(T value, string? format = null)
        {
            switch (value)
            {
                case null:
                    break;
                case string text:
                    AppendLiteral(text);
                    break;
                case IResourceBuilder<IResource> builder when builder.Resource is IValueProvider and IManifestExpressionProvider:
                    AddHole(builder.Resource, format);
                    break;
                case IValueProvider and IManifestExpressionProvider:
                    AddHole(value, format);
                    break;
                default:
                    AppendLiteral(string.Format(CultureInfo.InvariantCulture, "{0}", value));
                    break;
            }
        }

        readonly void AddHole(object value, string? format)
        {
            _format.Append('{').Append(_holes.Count.ToString(CultureInfo.InvariantCulture)).Append('}');
            _holes.Add(new ValueHole(value, format));
        }

        internal readonly ReferenceExpression Build() => new(_format.ToString(), _holes.ToArray());
    }
}
