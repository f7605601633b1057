using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Sessions.Redis;
using Sessions.Redis.Protocol;

namespace Redis.Tests;

public class RespParserTests
{
    static bool TryParse(string resp, out RedisResult result, out int consumed)
    {
        var bytes = Encoding.UTF8.GetBytes(resp);
        var buffer = new ReadOnlySequence<byte>(bytes);
        var ok = RespParser.TryParse(ref buffer, out result);
        consumed = bytes.Length - (int)buffer.Length;
        return ok;
    }

    static RedisResult Parse(string resp)
    {
        Assert.True(TryParse(resp, out var result, out var consumed));
        Assert.Equal(Encoding.UTF8.GetByteCount(resp), consumed);
        return result;
    }

    [Fact]
    public void Parses_every_RESP2_type()
    {
        Assert.Equal("OK", Parse("+OK\r\n").AsString());
        Assert.Equal("some status", Parse("+some status\r\n").AsString());
        Assert.Equal(RedisResultKind.SimpleString, Parse("+OK\r\n").Kind);

        var error = Parse("-WRONGTYPE Operation against a key\r\n");
        Assert.True(error.IsError);
        Assert.Equal("WRONGTYPE Operation against a key", error.ErrorMessage);
        Assert.Equal("WRONGTYPE", Assert.Throws<RedisServerException>(() => error.AsString()).ErrorCode);

        Assert.Equal(-42, Parse(":-42\r\n").AsInt64());
        Assert.Equal(long.MaxValue, Parse($":{long.MaxValue}\r\n").AsInt64());
        Assert.Equal(7, Parse(":7\r\n").AsInt64());

        Assert.Equal("héllo", Parse("$6\r\nhéllo\r\n").AsString());
        Assert.Equal("", Parse("$0\r\n\r\n").AsString());
        Assert.False(Parse("$0\r\n\r\n").IsNull);
        Assert.True(Parse("$-1\r\n").IsNull);
        Assert.Null(Parse("$-1\r\n").AsString());
        Assert.Equal("a\r\nb", Parse("$4\r\na\r\nb\r\n").AsString());   // bulk strings are binary-safe

        Assert.True(Parse("*-1\r\n").IsNull);
        Assert.Null(Parse("*-1\r\n").AsArray());
        Assert.Empty(Parse("*0\r\n").AsArray()!);
    }

    [Fact]
    public void Parses_nested_arrays_with_mixed_elements()
    {
        var result = Parse("*4\r\n:1\r\n*2\r\n$3\r\nfoo\r\n*1\r\n-ERR inner\r\n$-1\r\n*0\r\n");
        var items = result.AsArray()!;
        Assert.Equal(4, items.Length);
        Assert.Equal(1, items[0].AsInt64());
        var nested = items[1].AsArray()!;
        Assert.Equal("foo", nested[0].AsString());
        Assert.Equal("ERR inner", nested[1].AsArray()![0].ErrorMessage);
        Assert.True(items[2].IsNull);
        Assert.Empty(items[3].AsArray()!);
        Assert.Equal("[1, [foo, [(error) ERR inner]], (nil), []]", result.ToString());
    }

    [Theory]
    [InlineData("+OK\r\n")]
    [InlineData(":12345\r\n")]
    [InlineData("$5\r\nhello\r\n")]
    [InlineData("*3\r\n$3\r\nfoo\r\n*2\r\n:1\r\n$-1\r\n+bar\r\n")]
    [InlineData("-ERR unknown command\r\n")]
    public void Every_proper_prefix_is_incomplete_and_consumes_nothing(string resp)
    {
        var bytes = Encoding.UTF8.GetBytes(resp);
        for (var length = 0; length < bytes.Length; length++)
        {
            var buffer = new ReadOnlySequence<byte>(bytes, 0, length);
            var before = buffer;
            Assert.False(RespParser.TryParse(ref buffer, out _), $"prefix of {length} bytes parsed");
            Assert.Equal(before, buffer);
        }
        Assert.True(TryParse(resp, out _, out var consumed));
        Assert.Equal(bytes.Length, consumed);
    }

    [Fact]
    public async Task Frames_fed_through_a_pipe_one_byte_at_a_time_parse_once_complete()
    {
        const string stream = "+OK\r\n*2\r\n$3\r\nabc\r\n*1\r\n:-7\r\n$-1\r\n-ERR boom\r\n$10\r\n0123456789\r\n";
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 1, pauseWriterThreshold: 0));
        var replies = new List<RedisResult>();
        foreach (var b in Encoding.ASCII.GetBytes(stream))
        {
            await pipe.Writer.WriteAsync(new[] { b }, TestSupport.Ct);
            var read = await pipe.Reader.ReadAsync(TestSupport.Ct);
            var buffer = read.Buffer;
            while (RespParser.TryParse(ref buffer, out var reply)) replies.Add(reply);
            pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
        }
        Assert.Equal(["OK", "[abc, [-7]]", "(nil)", "(error) ERR boom", "0123456789"], replies.Select(r => r.ToString()));
    }

    [Fact]
    public void Frames_split_across_many_segments_parse()
    {
        // Every byte in its own segment, so each CRLF and length prefix straddles a boundary.
        var bytes = Encoding.ASCII.GetBytes("*2\r\n$5\r\nhello\r\n:123\r\n+next\r\n");
        var sequence = SingleByteSegments(bytes);
        Assert.True(RespParser.TryParse(ref sequence, out var first));
        Assert.Equal("[hello, 123]", first.ToString());
        Assert.True(RespParser.TryParse(ref sequence, out var second));
        Assert.Equal("next", second.ToString());
        Assert.True(sequence.IsEmpty);
    }

    [Theory]
    [InlineData("!3\r\nabc\r\n")]
    [InlineData(":12x\r\n")]
    [InlineData("$3\r\nabcXY")]
    [InlineData("$-5\r\n")]
    public void Malformed_input_is_a_protocol_error(string resp) =>
        Assert.Throws<RedisProtocolException>(() => TryParse(resp, out _, out _));

    [Fact]
    public void Writer_output_parses_back_as_an_array_of_bulk_strings()
    {
        var buffer = new CommandBuffer();
        RespWriter.WriteCommand(buffer, "SET", ["key", "välue", 42L, 1.5, new byte[] { 0, 13, 10, 255 }, double.NegativeInfinity, RedisValue.Null]);
        Assert.StartsWith("*8\r\n$3\r\nSET\r\n$3\r\nkey\r\n$6\r\nvälue\r\n$2\r\n42\r\n$3\r\n1.5\r\n", Encoding.UTF8.GetString(buffer.WrittenSpan));
        var sequence = new ReadOnlySequence<byte>(buffer.WrittenMemory);
        Assert.True(RespParser.TryParse(ref sequence, out var parsed));
        var items = parsed.AsArray()!;
        Assert.Equal(new byte[] { 0, 13, 10, 255 }, items[5].AsBytes());
        Assert.Equal("-inf", items[6].AsString());
        Assert.Equal("", items[7].AsString());
        buffer.Release();
    }

    static ReadOnlySequence<byte> SingleByteSegments(byte[] bytes)
    {
        var first = new Segment(bytes.AsMemory(0, 1), 0);
        var last = first;
        for (var i = 1; i < bytes.Length; i++) last = last.Append(bytes.AsMemory(i, 1));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
