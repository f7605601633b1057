using System.Buffers;

namespace Sessions.Redis.Protocol;

/// <summary>
/// A growable byte buffer rented from the shared array pool. Commands are encoded straight into it and the
/// writer loop sends its whole content with one socket write.
/// </summary>
internal sealed class CommandBuffer : IBufferWriter<byte>
{
    const int InitialSize = 4096;
    // After a burst of large values, give the big array back instead of holding it for the connection's life.
    const int RetainedMaxSize = 1 << 20;

    byte[] _buffer;
    int _written;

    public CommandBuffer(int initialSize = InitialSize) => _buffer = ArrayPool<byte>.Shared.Rent(initialSize);

    public int Length => _written;
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        _written += bytes.Length;
    }

    public void Reset()
    {
        _written = 0;
        if (_buffer.Length > RetainedMaxSize)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
        }
    }

    /// <summary>Returns the array to the pool; the buffer must not be used afterwards.</summary>
    public void Release()
    {
        var buffer = _buffer;
        _buffer = [];
        _written = 0;
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }

    void Ensure(int sizeHint)
    {
        if (sizeHint < 1) sizeHint = 1;
        if (_buffer.Length - _written >= sizeHint) return;
        var grown = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _written + sizeHint));
        _buffer.AsSpan(0, _written).CopyTo(grown);
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = grown;
    }
}
