using System.Buffers.Text;
using System.Text;

namespace Sessions.Redis.Protocol;

/// <summary>Encodes commands as RESP2 arrays of bulk strings (the only form Redis accepts from clients besides inline commands).</summary>
internal static class RespWriter
{
    // '$' + up to 10 digits + CRLF in front of the payload, CRLF after it.
    const int BulkOverhead = 1 + 10 + 2 + 2;

    public static void WriteCommand(CommandBuffer buffer, string command, ReadOnlySpan<RedisValue> args)
    {
        WriteArrayHeader(buffer, args.Length + 1);
        WriteBulkString(buffer, command);
        foreach (ref readonly var arg in args) arg.WriteTo(buffer);
    }

    public static void WriteArrayHeader(CommandBuffer buffer, int count)
    {
        var span = buffer.GetSpan(1 + 10 + 2);
        span[0] = (byte)'*';
        Utf8Formatter.TryFormat(count, span[1..], out var digits);
        span[1 + digits] = (byte)'\r';
        span[2 + digits] = (byte)'\n';
        buffer.Advance(3 + digits);
    }

    public static void WriteBulkString(CommandBuffer buffer, string value)
    {
        // ASCII strings (keys, command names, numbers) are the common case: their byte count is their length.
        var byteCount = Ascii.IsValid(value) ? value.Length : Encoding.UTF8.GetByteCount(value);
        var span = buffer.GetSpan(byteCount + BulkOverhead);
        var offset = WriteBulkHeader(span, byteCount);
        offset += Encoding.UTF8.GetBytes(value, span[offset..]);
        span[offset++] = (byte)'\r';
        span[offset++] = (byte)'\n';
        buffer.Advance(offset);
    }

    public static void WriteBulkString(CommandBuffer buffer, ReadOnlySpan<byte> value)
    {
        var span = buffer.GetSpan(value.Length + BulkOverhead);
        var offset = WriteBulkHeader(span, value.Length);
        value.CopyTo(span[offset..]);
        offset += value.Length;
        span[offset++] = (byte)'\r';
        span[offset++] = (byte)'\n';
        buffer.Advance(offset);
    }

    public static void WriteBulkInteger(CommandBuffer buffer, long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out var length);
        WriteBulkString(buffer, digits[..length]);
    }

    static int WriteBulkHeader(Span<byte> span, int length)
    {
        span[0] = (byte)'$';
        Utf8Formatter.TryFormat(length, span[1..], out var digits);
        span[1 + digits] = (byte)'\r';
        span[2 + digits] = (byte)'\n';
        return 3 + digits;
    }
}
