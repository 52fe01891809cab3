namespace HaPowerShell.Core.Health;

/// <summary>
/// An indexed binary min-heap of timers: ids 0..capacity-1, each with at most one due time. Setting
/// the due time of an id that is already in the heap moves it (there is never more than one timer
/// per id), so one heap serves both "next check due" and "connect timeout" of a TCP check. All
/// storage is allocated at construction: Set, Remove and Pop allocate nothing. Ties pop in id order,
/// so the order is deterministic. Not thread-safe.
/// </summary>
public sealed class TimerHeap
{
    private readonly int[] _heap;   // ids, heap-ordered by (_due[id], id)
    private readonly long[] _due;   // by id
    private readonly int[] _pos;    // by id: index in _heap, -1 when absent
    private int _count;

    public TimerHeap(int capacity)
    {
        if (capacity < 0) throw new ArgumentOutOfRangeException(nameof(capacity));
        _heap = new int[capacity];
        _due = new long[capacity];
        _pos = new int[capacity];
        Array.Fill(_pos, -1);
    }

    public int Count => _count;
    public int Capacity => _heap.Length;

    public bool Contains(int id) => _pos[id] >= 0;

    /// <summary>The due time of <paramref name="id"/>; only meaningful when <see cref="Contains"/>.</summary>
    public long DueOf(int id) => _due[id];

    /// <summary>Arms the timer of <paramref name="id"/> for <paramref name="due"/>, replacing any earlier due time.</summary>
    public void Set(int id, long due)
    {
        int p = _pos[id];
        if (p < 0)
        {
            p = _count++;
            _heap[p] = id;
            _pos[id] = p;
            _due[id] = due;
            Up(p);
            return;
        }
        long old = _due[id];
        _due[id] = due;
        if (due < old) Up(p);
        else if (due > old) Down(p);
    }

    /// <summary>Disarms the timer of <paramref name="id"/>; false when it was not armed.</summary>
    public bool Remove(int id)
    {
        int p = _pos[id];
        if (p < 0) return false;
        _pos[id] = -1;
        int last = --_count;
        if (p != last)
        {
            int moved = _heap[last];
            _heap[p] = moved;
            _pos[moved] = p;
            if (p > 0 && Less(moved, _heap[(p - 1) / 2])) Up(p);
            else Down(p);
        }
        return true;
    }

    /// <summary>The earliest timer, without removing it.</summary>
    public bool TryPeek(out int id, out long due)
    {
        if (_count == 0) { id = -1; due = 0; return false; }
        id = _heap[0];
        due = _due[id];
        return true;
    }

    /// <summary>Removes and returns the earliest timer if it is due at or before <paramref name="now"/>.</summary>
    public bool TryPopDue(long now, out int id)
    {
        if (_count == 0 || _due[_heap[0]] > now) { id = -1; return false; }
        id = _heap[0];
        Remove(id);
        return true;
    }

    private bool Less(int a, int b) => _due[a] < _due[b] || (_due[a] == _due[b] && a < b);

    private void Up(int p)
    {
        int id = _heap[p];
        while (p > 0)
        {
            int parent = (p - 1) / 2;
            int pid = _heap[parent];
            if (!Less(id, pid)) break;
            _heap[p] = pid;
            _pos[pid] = p;
            p = parent;
        }
        _heap[p] = id;
        _pos[id] = p;
    }

    private void Down(int p)
    {
        int id = _heap[p];
        while (true)
        {
            int c = 2 * p + 1;
            if (c >= _count) break;
            if (c + 1 < _count && Less(_heap[c + 1], _heap[c])) c++;
            int cid = _heap[c];
            if (!Less(cid, id)) break;
            _heap[p] = cid;
            _pos[cid] = p;
            p = c;
        }
        _heap[p] = id;
        _pos[id] = p;
    }
}
