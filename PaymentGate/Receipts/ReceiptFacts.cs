using System.Buffers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.Features;
using Sessions.PaymentGate.Pricing;
using Sessions.Payments.Receipts;

namespace Sessions.PaymentGate.Receipts;

/// <summary>
/// What a payment kind knows about a charged answer, for its receipt; the writer adds the hashes, latency and time.
/// The receipt id derives from the payment or debit id (<see cref="ReceiptIds"/>), so one charge has one receipt and
/// SessionApi's webhooks name it without being told.
/// </summary>
/// <param name="Amount">What was charged when it is not the route's price (a pass's request: 0).</param>
public sealed record ReceiptFacts(string Method, string Payer, GateRoute Route, string Reference, string? PaymentId = null,
    string? DebitId = null, string? SessionId = null, System.Numerics.BigInteger? Amount = null)
{
    public string Id => ReceiptIds.For(PaymentId ?? DebitId!);
}

/// <summary>
/// Started when a paid request reaches the paywall: the clock of the receipt's latency and the SHA-256 of the request
/// (method, path and query, then the body hashed as it streams to whoever reads it, so it is never buffered for this).
/// </summary>
public sealed class RequestDigest
{
    readonly HttpContext context;
    readonly string method;
    readonly string pathAndQuery;
    /// <summary>Null for a request without a body (a GET): then nothing wraps the body and the hash is method and path alone.</summary>
    readonly HashingReadStream? body;
    readonly long started;
    readonly TimeProvider time;
    string? withoutBody;

    RequestDigest(HttpContext context, TimeProvider time)
    {
        this.context = context;
        this.time = time;
        started = time.GetTimestamp();
        var request = context.Request;
        (method, pathAndQuery) = (request.Method, request.Path + request.QueryString);
        // The server knows whether a body can follow (Content-Length or chunked): most paid calls are GETs without one.
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != false)
        {
            var hash = ReceiptHashes.StartRequest(method, pathAndQuery);
            // Disposed with the request, charged or not: an undisposed hash holds native memory until a finalizer frees it.
            context.Response.RegisterForDispose(hash);
            request.Body = body = new HashingReadStream(request.Body, hash);
        }
    }

    public static RequestDigest Start(HttpContext context, TimeProvider time) => new(context, time);

    public long ElapsedMilliseconds => (long)time.GetElapsedTime(started).TotalMilliseconds;

    /// <summary>The request hash; what the upstream did not read of the body is read (and hashed) now.</summary>
    public async Task<string> RequestSha256Async()
    {
        if (body is null)
            return withoutBody ??= ReceiptHashes.Request(method, pathAndQuery, default);
        var rest = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            while (await body.ReadAsync(rest, context.RequestAborted) > 0) { }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The client went away or the body was consumed elsewhere: the hash covers what the gate saw.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rest);
        }
        return body.Finish();
    }

    sealed class HashingReadStream(Stream inner, IncrementalHash hash) : Stream
    {
        string? finished;

        public string Finish() => finished ??= ReceiptHashes.Finish(hash);

        public override int Read(byte[] buffer, int offset, int count) => Hashed(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

        public override int Read(Span<byte> buffer) => Hashed(buffer[..inner.Read(buffer)]);

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            var read = await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken);
            return Hashed(buffer.AsSpan(offset, read));
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            return Hashed(buffer.Span[..read]);
        }

        int Hashed(ReadOnlySpan<byte> read)
        {
            if (finished is null)
                hash.AppendData(read);
            return read.Length;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
