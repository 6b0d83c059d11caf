using TokenClient.Diagnostics;

namespace TokenClient.Tests.Diagnostics;

public sealed class StripedCounterTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(64)]
    public void IncrementOn_AnyProcessorNumber_StaysInItsCells_AndEveryOneIsCounted(int processors)
    {
        var counter = new StripedCounter(processors);

        // Processor numbers past the count (and large ones) wrap onto the cells there are.
        var ids = Enumerable.Range(0, 300).Append(int.MaxValue).Append(1 << 20).ToList();
        foreach (var id in ids)
        {
            counter.IncrementOn(id);
        }

        counter.Sum.Should().Be(ids.Count);
    }

    [Fact]
    public async Task Increment_FromManyThreadsAtOnce_LosesNothing()
    {
        var counter = new StripedCounter();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                counter.Increment();
            }
        })));

        counter.Sum.Should().Be(80_000);
    }
}
