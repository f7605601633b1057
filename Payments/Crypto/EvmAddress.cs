namespace Sessions.Payments.Crypto;

/// <summary>
/// A 20-byte EVM account address. Equality is on the bytes, so checksummed and lowercase spellings of
/// the same address are equal. <see cref="ToString"/> gives the EIP-55 checksummed form.
/// </summary>
public sealed class EvmAddress : IEquatable<EvmAddress>
{
    public const int ByteLength = 20;

    private readonly byte[] _bytes;

    private EvmAddress(byte[] bytes) => _bytes = bytes;

    public static EvmAddress Zero { get; } = new(new byte[ByteLength]);

    public ReadOnlySpan<byte> Bytes => _bytes;

    public byte[] ToArray() => (byte[])_bytes.Clone();

    public static EvmAddress FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != ByteLength)
            throw new ArgumentException($"An EVM address is {ByteLength} bytes, got {bytes.Length}.", nameof(bytes));
        return new EvmAddress(bytes.ToArray());
    }

    /// <summary>The address of an uncompressed secp256k1 public key (64 bytes X||Y, no 0x04 prefix).</summary>
    public static EvmAddress FromPublicKey(ReadOnlySpan<byte> publicKeyXY)
    {
        if (publicKeyXY.Length != 64)
            throw new ArgumentException("Expected a 64-byte uncompressed public key without prefix.", nameof(publicKeyXY));
        return new EvmAddress(Keccak256.Hash(publicKeyXY)[12..]);
    }

    /// <summary>
    /// Parses "0x" + 40 hex digits. All-lowercase and all-uppercase bodies are accepted as is; a
    /// mixed-case body must carry a valid EIP-55 checksum (mixed case that fails it is a typo).
    /// </summary>
    public static bool TryParse(string? text, out EvmAddress address, out string? error)
    {
        address = Zero;
        if (text is null || text.Length != 2 + 2 * ByteLength || text[0] != '0' || text[1] != 'x')
        {
            error = "an address must be \"0x\" followed by 40 hex digits";
            return false;
        }
        var body = text.AsSpan(2);
        if (!Hex.TryDecodeBare(body, out var bytes))
        {
            error = "an address must be \"0x\" followed by 40 hex digits";
            return false;
        }
        var candidate = new EvmAddress(bytes);
        if (HasMixedCase(body) && !body.SequenceEqual(candidate.ToChecksumString().AsSpan(2)))
        {
            error = "mixed-case address fails its EIP-55 checksum";
            return false;
        }
        address = candidate;
        error = null;
        return true;
    }

    public static bool TryParse(string? text, out EvmAddress address) => TryParse(text, out address, out _);

    public static EvmAddress Parse(string text) =>
        TryParse(text, out var address, out var error) ? address : throw new FormatException($"Invalid EVM address '{text}': {error}.");

    /// <summary>True if <paramref name="text"/> is syntactically an address with a valid checksum when mixed-case.</summary>
    public static bool IsValid(string? text) => TryParse(text, out _);

    /// <summary>EIP-55: uppercase a hex letter when the matching nibble of keccak(lowercase hex) is >= 8.</summary>
    public string ToChecksumString()
    {
        var lower = Hex.EncodeBare(_bytes);
        var hash = Keccak256.HashUtf8(lower);
        var chars = new char[2 + lower.Length];
        chars[0] = '0';
        chars[1] = 'x';
        for (var i = 0; i < lower.Length; i++)
        {
            var nibble = (i % 2 == 0) ? hash[i / 2] >> 4 : hash[i / 2] & 0x0F;
            chars[2 + i] = nibble >= 8 ? char.ToUpperInvariant(lower[i]) : lower[i];
        }
        return new string(chars);
    }

    public string ToLowerHex() => Hex.Encode(_bytes);

    public override string ToString() => ToChecksumString();

    public bool Equals(EvmAddress? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => Equals(obj as EvmAddress);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(_bytes);
        return hash.ToHashCode();
    }

    public static bool operator ==(EvmAddress? left, EvmAddress? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(EvmAddress? left, EvmAddress? right) => !(left == right);

    /// <summary>Case-insensitive comparison of two address strings; false if either is malformed.</summary>
    public static bool AreEqual(string? left, string? right) =>
        TryParse(left, out var a) && TryParse(right, out var b) && a == b;

    private static bool HasMixedCase(ReadOnlySpan<char> body) =>
        body.ContainsAny("abcdef") && body.ContainsAny("ABCDEF");
}
