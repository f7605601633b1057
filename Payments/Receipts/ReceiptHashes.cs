using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Sessions.Payments.Receipts;

/// <summary>The two hashes a receipt commits to, lowercase hex SHA-256 (docs/receipts.md).</summary>
public static class ReceiptHashes
{
    /// <summary>SHA-256 of <c>UTF-8(METHOD) 0x0A UTF-8(path?query as sent) 0x0A body</c>, in one call (no hash object to dispose).</summary>
    public static string Request(string method, string pathAndQuery, ReadOnlySpan<byte> body)
    {
        var head = Head(method, pathAndQuery);
        var length = Encoding.UTF8.GetByteCount(head) + body.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            body.CopyTo(buffer.AsSpan(Encoding.UTF8.GetBytes(head, buffer)));
            return Convert.ToHexStringLower(SHA256.HashData(buffer.AsSpan(0, length)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The request hash begun over method and path, for a body hashed as it streams; the caller disposes it.</summary>
    public static IncrementalHash StartRequest(string method, string pathAndQuery)
    {
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(Head(method, pathAndQuery)));
        return hash;
    }

    /// <summary>What the request hash covers before the body.</summary>
    static string Head(string method, string pathAndQuery) => method.ToUpperInvariant() + "\n" + pathAndQuery + "\n";

    public static string Finish(IncrementalHash hash) => Convert.ToHexStringLower(hash.GetHashAndReset());

    public static string Body(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA256.HashData(body));
}
