using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace Sessions.PaymentGate.Proxy;

/// <summary>
/// Holds the upstream answer of a paid request in memory instead of sending it: the gate settles first and
/// sends the body only when settlement succeeded (as @x402/express does). Starting or completing the response
/// is a no-op while installed, so nothing reaches the client until <see cref="DisposeAsync"/> restored the
/// original feature and the paywall decided.
/// </summary>
public sealed class BufferedResponseBody : IHttpResponseBodyFeature, IAsyncDisposable
{
    readonly HttpContext _context;
    readonly IHttpResponseBodyFeature _original;
    readonly LimitedMemoryStream _buffer;
    PipeWriter? _writer;

    public BufferedResponseBody(HttpContext context, int maxBytes)
    {
        _context = context;
        _original = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        _buffer = new LimitedMemoryStream(maxBytes);
        context.Features.Set<IHttpResponseBodyFeature>(this);
    }

    /// <summary>The upstream body overflowed the limit and was cut: never send a truncated paid answer.</summary>
    public bool Overflowed => _buffer.Overflowed;

    public ReadOnlyMemory<byte> Body => _buffer.GetBuffer().AsMemory(0, (int)_buffer.Length);

    public Stream Stream => _buffer;

    public PipeWriter Writer => _writer ??= PipeWriter.Create(_buffer, new StreamPipeWriterOptions(leaveOpen: true));

    public void DisableBuffering() { }

    public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public async Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        await SendFileFallback.SendFileAsync(_buffer, path, offset, count, cancellationToken);

    public async Task CompleteAsync()
    {
        if (_writer is not null)
            await _writer.FlushAsync();
    }

    /// <summary>Puts the real response body back; the buffer stays readable.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_writer is not null)
            await _writer.CompleteAsync();
        _context.Features.Set(_original);
    }

    sealed class LimitedMemoryStream(int maxBytes) : MemoryStream
    {
        public bool Overflowed { get; private set; }

        // MemoryStream's span overloads route derived types through Write(byte[], int, int): check there only.
        public override void Write(byte[] buffer, int offset, int count)
        {
            Check(count);
            base.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer) => Write(buffer.ToArray(), 0, buffer.Length);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer, offset, count);
            return Task.CompletedTask;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void WriteByte(byte value)
        {
            Check(1);
            base.WriteByte(value);
        }

        void Check(int count)
        {
            if (Length + count <= maxBytes)
                return;
            Overflowed = true;
            throw new IOException($"The upstream answer exceeds the gate's buffer of {maxBytes} bytes (Gate:MaxBufferedResponseBytes).");
        }
    }
}
