namespace Sessions.Payments.Crypto;

/// <summary>An immutable 32-byte value (EIP-712 bytes32: nonces, channel ids, salts, hashes).</summary>
public readonly struct Bytes32 : IEquatable<Bytes32>
{
    public const int Length = 32;

    private readonly byte[]? _bytes;

    private Bytes32(byte[] bytes) => _bytes = bytes;

    public static Bytes32 Zero => default;

    /// <summary>The bytes; all zero for <c>default</c>.</summary>
    public ReadOnlySpan<byte> Span => _bytes ?? new byte[Length];

    public byte[] ToArray() => Span.ToArray();

    public static Bytes32 FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
            throw new ArgumentException($"Expected {Length} bytes, got {bytes.Length}.", nameof(bytes));
        return new Bytes32(bytes.ToArray());
    }

    /// <summary>Parses "0x" + exactly 64 hex digits (either case).</summary>
    public static bool TryParse(string? text, out Bytes32 value)
    {
        value = default;
        if (!Hex.TryDecodeFixed(text, Length, out var bytes))
            return false;
        value = new Bytes32(bytes);
        return true;
    }

    public static Bytes32 Parse(string text) =>
        TryParse(text, out var value) ? value : throw new FormatException($"Expected \"0x\" + 64 hex digits, got '{text}'.");

    public override string ToString() => Hex.Encode(Span);

    public bool Equals(Bytes32 other) => Span.SequenceEqual(other.Span);

    public override bool Equals(object? obj) => obj is Bytes32 other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Span);
        return hash.ToHashCode();
    }

    public static bool operator ==(Bytes32 left, Bytes32 right) => left.Equals(right);

    public static bool operator !=(Bytes32 left, Bytes32 right) => !left.Equals(right);
}
