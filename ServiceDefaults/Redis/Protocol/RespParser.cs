using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Sessions.Redis.Protocol;

/// <summary>
/// Parses RESP2 replies from a byte sequence that may end in the middle of a frame (data arrives in arbitrary
/// pieces). <see cref="TryParse"/> either consumes one whole reply or nothing.
/// </summary>
internal static class RespParser
{
    // Far deeper than any real reply; guards the recursion against a hostile or corrupt stream.
    const int MaxDepth = 512;

    /// <summary>
    /// Parses one complete reply from the start of <paramref name="buffer"/> and slices it off.
    /// Returns false, leaving <paramref name="buffer"/> untouched, when the reply is not complete yet.
    /// </summary>
    /// <exception cref="RedisProtocolException">The bytes are not RESP2.</exception>
    public static bool TryParse(ref ReadOnlySequence<byte> buffer, out RedisResult result)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryPeek(out var prefix))
        {
            result = null!;
            return false;
        }
        // Large arrays arrive in many reads: check completeness without allocating before building the result,
        // so an incomplete array costs a scan of its headers rather than a tree of objects per read.
        if (prefix == (byte)'*')
        {
            var probe = reader;
            if (!TrySkip(ref probe, 0))
            {
                result = null!;
                return false;
            }
        }
        if (!TryRead(ref reader, 0, out result)) return false;
        buffer = buffer.Slice(reader.Position);
        return true;
    }

    static bool TryRead(ref SequenceReader<byte> reader, int depth, out RedisResult result)
    {
        result = null!;
        if (!reader.TryRead(out var prefix)) return false;
        switch (prefix)
        {
            case (byte)'+':
                if (!TryReadLine(ref reader, out var simple)) return false;
                result = simple.SequenceEqual("OK"u8) ? RedisResult.Ok
                    : simple.SequenceEqual("PONG"u8) ? RedisResult.Pong
                    : simple.SequenceEqual("QUEUED"u8) ? RedisResult.Queued
                    : RedisResult.SimpleString(Encoding.UTF8.GetString(simple));
                return true;
            case (byte)'-':
                if (!TryReadLine(ref reader, out var error)) return false;
                result = RedisResult.Error(Encoding.UTF8.GetString(error));
                return true;
            case (byte)':':
                if (!TryReadInteger(ref reader, out var integer)) return false;
                result = RedisResult.Integer(integer);
                return true;
            case (byte)'$':
                if (!TryReadInteger(ref reader, out var length)) return false;
                if (length == -1)
                {
                    result = RedisResult.NullBulk;
                    return true;
                }
                if (length < 0 || length > int.MaxValue - 2) throw new RedisProtocolException($"Invalid bulk string length {length}.");
                if (reader.Remaining < length + 2) return false;
                var bytes = length == 0 ? [] : new byte[length];
                reader.TryCopyTo(bytes);
                reader.Advance(length);
                ExpectCrLf(ref reader);
                result = RedisResult.Bulk(bytes);
                return true;
            case (byte)'*':
                if (!TryReadInteger(ref reader, out var count)) return false;
                if (count == -1)
                {
                    result = RedisResult.NullArray;
                    return true;
                }
                if (count < 0 || count > int.MaxValue) throw new RedisProtocolException($"Invalid array length {count}.");
                if (depth >= MaxDepth) throw new RedisProtocolException($"Reply nested deeper than {MaxDepth} arrays.");
                // Never trust the count for an allocation before the elements are there: each takes at least 3 bytes.
                if (reader.Remaining < count * 3) return false;
                var items = count == 0 ? [] : new RedisResult[count];
                for (var i = 0; i < items.Length; i++)
                {
                    if (!TryRead(ref reader, depth + 1, out items[i])) return false;
                }
                result = RedisResult.FromArray(items);
                return true;
            default:
                throw new RedisProtocolException($"Unexpected RESP type byte 0x{prefix:X2} ('{(char)prefix}').");
        }
    }

    /// <summary>Advances past one complete reply without building it; false when the reply is incomplete.</summary>
    static bool TrySkip(ref SequenceReader<byte> reader, int depth)
    {
        if (!reader.TryRead(out var prefix)) return false;
        switch (prefix)
        {
            case (byte)'+' or (byte)'-' or (byte)':':
                return reader.TryAdvanceTo((byte)'\n');
            case (byte)'$':
                if (!TryReadInteger(ref reader, out var length)) return false;
                if (length < 0) return true;
                if (reader.Remaining < length + 2) return false;
                reader.Advance(length + 2);
                return true;
            case (byte)'*':
                if (!TryReadInteger(ref reader, out var count)) return false;
                if (depth >= MaxDepth) throw new RedisProtocolException($"Reply nested deeper than {MaxDepth} arrays.");
                for (long i = 0; i < count; i++)
                {
                    if (!TrySkip(ref reader, depth + 1)) return false;
                }
                return true;
            default:
                throw new RedisProtocolException($"Unexpected RESP type byte 0x{prefix:X2} ('{(char)prefix}').");
        }
    }

    static bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySpan<byte> line) =>
        reader.TryReadTo(out line, "\r\n"u8, advancePastDelimiter: true);

    static bool TryReadInteger(ref SequenceReader<byte> reader, out long value)
    {
        value = 0;
        if (!TryReadLine(ref reader, out var line)) return false;
        if (!Utf8Parser.TryParse(line, out value, out var consumed) || consumed != line.Length || line.IsEmpty)
            throw new RedisProtocolException($"Invalid RESP integer '{Encoding.ASCII.GetString(line)}'.");
        return true;
    }

    static void ExpectCrLf(ref SequenceReader<byte> reader)
    {
        if (!reader.IsNext("\r\n"u8, advancePast: true)) throw new RedisProtocolException("Bulk string not terminated by CRLF.");
    }
}
