using System.Collections.Frozen;
using System.Text;
using Sessions.Payments.Crypto;

namespace Sessions.Payments.Eip712;

/// <summary>
/// A set of EIP-712 struct types and the encoder for them: encodeType, typeHash, encodeData and
/// hashStruct as the EIP specifies. Atomic types: address, bool, string, bytes, bytes1..bytes32,
/// uint8..uint256, int8..int256 (multiples of 8); arrays T[] and T[k]; nested struct types by name.
/// Immutable and thread-safe once built.
/// </summary>
public sealed class Eip712TypeSet
{
    private readonly FrozenDictionary<string, Eip712Field[]> _types;
    private readonly FrozenDictionary<string, string> _encodedTypes;
    private readonly FrozenDictionary<string, byte[]> _typeHashes;

    public Eip712TypeSet(IReadOnlyDictionary<string, IReadOnlyList<Eip712Field>> types)
    {
        ArgumentNullException.ThrowIfNull(types);
        _types = types.ToFrozenDictionary(pair => pair.Key, pair => pair.Value.ToArray(), StringComparer.Ordinal);
        Validate();
        _encodedTypes = _types.Keys.ToFrozenDictionary(name => name, BuildEncodeType, StringComparer.Ordinal);
        _typeHashes = _encodedTypes.ToFrozenDictionary(pair => pair.Key, pair => Keccak256.HashUtf8(pair.Value), StringComparer.Ordinal);
    }

    /// <summary>Builds a set from (type name, fields) pairs.</summary>
    public static Eip712TypeSet Create(params (string Name, Eip712Field[] Fields)[] types) =>
        new(types.ToDictionary(t => t.Name, t => (IReadOnlyList<Eip712Field>)t.Fields, StringComparer.Ordinal));

    public IReadOnlyCollection<string> TypeNames => _types.Keys;

    public IReadOnlyList<Eip712Field> FieldsOf(string typeName) =>
        _types.TryGetValue(typeName, out var fields) ? fields : throw UnknownType(typeName);

    /// <summary>The primary type followed by every referenced struct type sorted by name, e.g.
    /// "Mail(Person from,Person to,string contents)Person(string name,address wallet)".</summary>
    public string EncodeType(string primaryType) =>
        _encodedTypes.TryGetValue(primaryType, out var encoded) ? encoded : throw UnknownType(primaryType);

    public byte[] TypeHash(string primaryType) =>
        _typeHashes.TryGetValue(primaryType, out var hash) ? (byte[])hash.Clone() : throw UnknownType(primaryType);

    /// <summary>typeHash || enc(value1) || enc(value2) ... each 32 bytes.</summary>
    public byte[] EncodeData(string primaryType, IReadOnlyDictionary<string, object?> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var fields = _types.TryGetValue(primaryType, out var found) ? found : throw UnknownType(primaryType);
        var output = new byte[32 * (fields.Length + 1)];
        _typeHashes[primaryType].CopyTo(output, 0);
        for (var i = 0; i < fields.Length; i++)
        {
            var field = fields[i];
            if (!data.TryGetValue(field.Name, out var value))
                throw new ArgumentException($"{primaryType}.{field.Name} is missing.", nameof(data));
            EncodeValue(field.Type, value, $"{primaryType}.{field.Name}").CopyTo(output, 32 * (i + 1));
        }
        return output;
    }

    public byte[] HashStruct(string primaryType, IReadOnlyDictionary<string, object?> data) =>
        Keccak256.Hash(EncodeData(primaryType, data));

    private byte[] EncodeValue(string type, object? value, string path)
    {
        if (TrySplitArray(type, out var elementType, out var fixedLength))
        {
            if (value is not System.Collections.IEnumerable items || value is string || value is byte[])
                throw new ArgumentException($"{path} must be an array of {elementType}.");
            var encoded = new List<byte[]>();
            foreach (var item in items)
                encoded.Add(EncodeValue(elementType, item, $"{path}[{encoded.Count}]"));
            if (fixedLength is { } expected && encoded.Count != expected)
                throw new ArgumentException($"{path} must have exactly {expected} elements, got {encoded.Count}.");
            return Keccak256.HashConcat(encoded.ToArray());
        }
        if (_types.ContainsKey(type))
        {
            if (value is not IReadOnlyDictionary<string, object?> nested)
                throw new ArgumentException($"{path} must be a dictionary of {type} fields.");
            return HashStruct(type, nested);
        }
        return Eip712AtomicEncoder.Encode(type, value, path);
    }

    private string BuildEncodeType(string primaryType)
    {
        var dependencies = new SortedSet<string>(StringComparer.Ordinal);
        CollectDependencies(primaryType, dependencies);
        dependencies.Remove(primaryType);
        var builder = new StringBuilder();
        foreach (var typeName in dependencies.Prepend(primaryType))
        {
            builder.Append(typeName).Append('(');
            builder.AppendJoin(',', _types[typeName].Select(f => $"{f.Type} {f.Name}"));
            builder.Append(')');
        }
        return builder.ToString();
    }

    private void CollectDependencies(string typeName, ISet<string> found)
    {
        if (!found.Add(typeName))
            return;
        foreach (var field in _types[typeName])
        {
            var baseType = BaseTypeOf(field.Type);
            if (_types.ContainsKey(baseType))
                CollectDependencies(baseType, found);
        }
    }

    private void Validate()
    {
        foreach (var (typeName, fields) in _types)
        {
            if (!IsIdentifier(typeName))
                throw new ArgumentException($"'{typeName}' is not a valid EIP-712 type name.");
            if (Eip712AtomicEncoder.IsAtomic(typeName))
                throw new ArgumentException($"'{typeName}' is an atomic type and cannot be redefined.");
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var field in fields)
            {
                if (!IsIdentifier(field.Name) || !names.Add(field.Name))
                    throw new ArgumentException($"{typeName}: field name '{field.Name}' is invalid or repeated.");
                var baseType = BaseTypeOf(field.Type);
                if (!_types.ContainsKey(baseType) && !Eip712AtomicEncoder.IsAtomic(baseType))
                    throw new ArgumentException($"{typeName}.{field.Name}: unknown type '{field.Type}'.");
            }
        }
    }

    private static string BaseTypeOf(string type)
    {
        while (TrySplitArray(type, out var element, out _))
            type = element;
        return type;
    }

    private static bool TrySplitArray(string type, out string elementType, out int? fixedLength)
    {
        elementType = type;
        fixedLength = null;
        if (!type.EndsWith(']'))
            return false;
        var open = type.LastIndexOf('[');
        if (open <= 0)
            throw new ArgumentException($"Malformed array type '{type}'.");
        var lengthText = type.AsSpan(open + 1, type.Length - open - 2);
        if (lengthText.Length > 0)
        {
            if (!int.TryParse(lengthText, System.Globalization.NumberStyles.None, null, out var length) || length <= 0)
                throw new ArgumentException($"Malformed array length in '{type}'.");
            fixedLength = length;
        }
        elementType = type[..open];
        return true;
    }

    private static bool IsIdentifier(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_' || name[0] == '$')
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_' || c == '$');

    private static ArgumentException UnknownType(string typeName) => new($"Unknown EIP-712 type '{typeName}'.");
}
