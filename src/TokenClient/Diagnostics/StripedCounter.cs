using System.Numerics;

namespace TokenClient.Diagnostics;

/// <summary>
/// A count that many threads add to at once without contending: one cell per processor, each on a cache line of
/// its own, summed when read. Counting a cache hit costs an uncontended increment, not a cache line shared by
/// every core (nor by the field the hit path reads).
/// </summary>
internal sealed class StripedCounter
{
    // Cells 128 bytes apart: past the line the processor prefetches beside the one it loads.
    private const int Spacing = 16;

    private readonly long[] _cells;
    private readonly int _mask;

    public StripedCounter()
        : this(Environment.ProcessorCount)
    {
    }

    /// <summary>A counter with at least <paramref name="processors"/> cells (a power of two).</summary>
    internal StripedCounter(int processors)
    {
        var stripes = (int)BitOperations.RoundUpToPowerOf2((uint)processors);
        _mask = stripes - 1;
        _cells = new long[(stripes + 1) * Spacing]; // cell 0 unused: nothing else's data sits just before cell 1
    }

    public void Increment() => IncrementOn(Thread.GetCurrentProcessorId());

    /// <summary>Counts one on the cell of processor <paramref name="processorId"/>, whatever its number.</summary>
    internal void IncrementOn(int processorId) => Interlocked.Increment(ref _cells[((processorId & _mask) + 1) * Spacing]);

    public long Sum
    {
        get
        {
            long sum = 0;
            for (var i = Spacing; i < _cells.Length; i += Spacing)
            {
                sum += Volatile.Read(ref _cells[i]);
            }

            return sum;
        }
    }
}
