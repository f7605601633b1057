using System.Numerics;
using Sessions.Payments.Crypto;

namespace Sessions.Payments.Eip712;

/// <summary>
/// An EIP712Domain with any subset of its five fields. Present fields are encoded in the canonical order
/// name, version, chainId, verifyingContract, salt; absent ones are left out of the type entirely.
/// </summary>
public sealed record Eip712Domain(
    string? Name = null,
    string? Version = null,
    BigInteger? ChainId = null,
    EvmAddress? VerifyingContract = null,
    Bytes32? Salt = null)
{
    public const string TypeName = "EIP712Domain";

    public IReadOnlyList<Eip712Field> Fields
    {
        get
        {
            var fields = new List<Eip712Field>(5);
            if (Name is not null) fields.Add(new("name", "string"));
            if (Version is not null) fields.Add(new("version", "string"));
            if (ChainId is not null) fields.Add(new("chainId", "uint256"));
            if (VerifyingContract is not null) fields.Add(new("verifyingContract", "address"));
            if (Salt is not null) fields.Add(new("salt", "bytes32"));
            return fields;
        }
    }

    /// <summary>e.g. "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)".</summary>
    public string EncodeType() => $"{TypeName}({string.Join(',', Fields.Select(f => $"{f.Type} {f.Name}"))})";

    public byte[] TypeHash() => Keccak256.HashUtf8(EncodeType());

    /// <summary>hashStruct(EIP712Domain) of the present fields.</summary>
    public byte[] Separator()
    {
        // Encoded directly rather than through an Eip712TypeSet: this runs once per verified payment.
        var fields = Fields;
        var words = new byte[fields.Count + 1][];
        words[0] = TypeHash();
        for (var i = 0; i < fields.Count; i++)
        {
            object? value = fields[i].Name switch
            {
                "name" => Name,
                "version" => Version,
                "chainId" => ChainId,
                "verifyingContract" => VerifyingContract,
                _ => Salt,
            };
            words[i + 1] = Eip712AtomicEncoder.Encode(fields[i].Type, value, $"{TypeName}.{fields[i].Name}");
        }
        return Keccak256.HashConcat(words);
    }
}
