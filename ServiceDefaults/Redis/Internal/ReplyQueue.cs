namespace Sessions.Redis.Internal;

/// <summary>A command's place in the reply order: the command and the generation it had when it was sent.</summary>
internal readonly record struct ReplySlot(PendingCommand Command, int Generation);

/// <summary>
/// The FIFO of commands written to one connection and not yet answered. Slots stay until their reply arrives,
/// even when the caller gave up (timeout, cancellation), so that every reply is matched to the right command.
/// A ring buffer under a short lock: enqueued by callers, dequeued by the reader loop, scanned by the timeout timer.
/// </summary>
internal sealed class ReplyQueue
{
    readonly Lock _lock = new();
    ReplySlot[] _items = new ReplySlot[64];
    int _head;
    int _count;

    public int Count
    {
        get { lock (_lock) return _count; }
    }

    public void Enqueue(ReplySlot slot)
    {
        lock (_lock)
        {
            if (_count == _items.Length) Grow();
            _items[(_head + _count) % _items.Length] = slot;
            _count++;
        }
    }

    public bool TryDequeue(out ReplySlot slot)
    {
        lock (_lock)
        {
            if (_count == 0)
            {
                slot = default;
                return false;
            }
            slot = _items[_head];
            _items[_head] = default;
            _head = (_head + 1) % _items.Length;
            _count--;
            return true;
        }
    }

    /// <summary>Adds the slots whose deadline passed and whose command is still pending to <paramref name="expired"/>.</summary>
    public void CollectExpired(long nowTicks, List<ReplySlot> expired)
    {
        lock (_lock)
        {
            for (var i = 0; i < _count; i++)
            {
                var slot = _items[(_head + i) % _items.Length];
                if (slot.Command.DeadlineTicks <= nowTicks && slot.Command.IsPending(slot.Generation)) expired.Add(slot);
            }
        }
    }

    /// <summary>Removes every slot (the connection is gone) and adds them to <paramref name="drained"/>.</summary>
    public void DrainTo(List<ReplySlot> drained)
    {
        lock (_lock)
        {
            for (var i = 0; i < _count; i++)
            {
                var index = (_head + i) % _items.Length;
                drained.Add(_items[index]);
                _items[index] = default;
            }
            _head = 0;
            _count = 0;
        }
    }

    void Grow()
    {
        var grown = new ReplySlot[_items.Length * 2];
        for (var i = 0; i < _count; i++) grown[i] = _items[(_head + i) % _items.Length];
        _items = grown;
        _head = 0;
    }
}
