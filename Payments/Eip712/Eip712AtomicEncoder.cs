using System.Globalization;
using System.Numerics;
using System.Text;
using Sessions.Payments.Crypto;

namespace Sessions.Payments.Eip712;

/// <summary>Encodes one atomic EIP-712 value to its 32-byte slot, with range and length checks.</summary>
internal static class Eip712AtomicEncoder
{
    public static bool IsAtomic(string type) =>
        type is "address" or "bool" or "string" or "bytes"
        || TryIntegerWidth(type, out _, out _)
        || TryFixedBytesLength(type, out _);

    public static byte[] Encode(string type, object? value, string path)
    {
        switch (type)
        {
            case "string":
                return value is string text ? Keccak256.Hash(Encoding.UTF8.GetBytes(text)) : throw Invalid(path, "a string");
            case "bytes":
                return Keccak256.Hash(ToBytes(value, path));
            case "bool":
                return value is bool flag ? Word(flag ? BigInteger.One : BigInteger.Zero) : throw Invalid(path, "a bool");
            case "address":
                return EncodeAddress(value, path);
        }
        if (TryFixedBytesLength(type, out var length))
        {
            var bytes = ToBytes(value, path);
            if (bytes.Length != length)
                throw new ArgumentException($"{path} must be exactly {length} bytes, got {bytes.Length}.");
            var slot = new byte[32];
            bytes.CopyTo(slot, 0); // bytesN is left-aligned, zero-padded on the right
            return slot;
        }
        if (TryIntegerWidth(type, out var signed, out var bits))
        {
            var number = ToInteger(value, path);
            var (min, max) = signed
                ? (-(BigInteger.One << (bits - 1)), (BigInteger.One << (bits - 1)) - 1)
                : (BigInteger.Zero, (BigInteger.One << bits) - 1);
            if (number < min || number > max)
                throw new ArgumentException($"{path} = {number} is out of range for {type}.");
            // Two's complement over 256 bits for negative signed values.
            return Word(number.Sign < 0 ? (BigInteger.One << 256) + number : number);
        }
        throw new ArgumentException($"{path}: unknown atomic type '{type}'.");
    }

    /// <summary>An unsigned integer below 2^256 as a big-endian 32-byte word.</summary>
    public static byte[] Word(BigInteger value)
    {
        var slot = new byte[32];
        var count = value.GetByteCount(isUnsigned: true);
        if (value.Sign < 0 || count > 32)
            throw new ArgumentOutOfRangeException(nameof(value), "Value does not fit an unsigned 256-bit word.");
        value.TryWriteBytes(slot.AsSpan(32 - count), out _, isUnsigned: true, isBigEndian: true);
        return slot;
    }

    private static byte[] EncodeAddress(object? value, string path)
    {
        var address = value switch
        {
            EvmAddress a => a,
            string s when EvmAddress.TryParse(s, out var parsed, out _) => parsed,
            _ => throw Invalid(path, "an address"),
        };
        var slot = new byte[32];
        address.Bytes.CopyTo(slot.AsSpan(12));
        return slot;
    }

    private static byte[] ToBytes(object? value, string path) => value switch
    {
        byte[] bytes => bytes,
        ReadOnlyMemory<byte> memory => memory.ToArray(),
        Bytes32 b32 => b32.ToArray(),
        string hex when Hex.TryDecode(hex, out var decoded) => decoded,
        _ => throw Invalid(path, "bytes (byte[] or 0x-hex)"),
    };

    private static BigInteger ToInteger(object? value, string path) => value switch
    {
        BigInteger b => b,
        int i => i,
        long l => l,
        uint u => u,
        ulong ul => ul,
        short s => s,
        ushort us => us,
        byte by => by,
        sbyte sb => sb,
        Int128 i128 => i128,
        UInt128 u128 => u128,
        string text => ParseIntegerText(text) ?? throw Invalid(path, "an integer"),
        _ => throw Invalid(path, "an integer"),
    };

    private static BigInteger? ParseIntegerText(string text)
    {
        if (text.StartsWith("0x", StringComparison.Ordinal))
            return Hex.TryDecodeBare(text.AsSpan(2), out var bytes) && bytes.Length > 0
                ? new BigInteger(bytes, isUnsigned: true, isBigEndian: true)
                : null;
        var digits = text.StartsWith('-') ? text.AsSpan(1) : text.AsSpan();
        if (digits.Length == 0 || !digits.ContainsOnlyAsciiDigits())
            return null;
        return BigInteger.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
    }

    private static bool ContainsOnlyAsciiDigits(this ReadOnlySpan<char> span) => !span.ContainsAnyExceptInRange('0', '9');

    private static bool TryIntegerWidth(string type, out bool signed, out int bits)
    {
        signed = !type.StartsWith('u');
        var digits = type.StartsWith("uint", StringComparison.Ordinal) ? type.AsSpan(4)
            : type.StartsWith("int", StringComparison.Ordinal) ? type.AsSpan(3)
            : [];
        bits = 0;
        // Bare "uint"/"int" are Solidity aliases, not EIP-712 type names: they would change the typeHash.
        return digits.Length > 0 && digits[0] != '0'
            && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out bits)
            && bits is >= 8 and <= 256 && bits % 8 == 0;
    }

    private static bool TryFixedBytesLength(string type, out int length)
    {
        length = 0;
        return type.StartsWith("bytes", StringComparison.Ordinal) && type.Length > 5 && type[5] != '0'
            && int.TryParse(type.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out length)
            && length is >= 1 and <= 32;
    }

    private static ArgumentException Invalid(string path, string expected) => new($"{path} must be {expected}.");
}
