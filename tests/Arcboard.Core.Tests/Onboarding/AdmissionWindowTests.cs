using Arcboard.Core.Onboarding;

namespace Arcboard.Core.Tests.Onboarding;

public sealed class AdmissionWindowTests
{
    private static string[] Ids(string prefix, int count) => [.. Enumerable.Range(0, count).Select(i => $"{prefix}-{i}")];

    [Fact]
    public async Task Batches_enter_while_they_fit_and_the_next_one_waits_until_enough_have_left()
    {
        var window = new AdmissionWindow(100);
        var first = Ids("a", 50);
        var second = Ids("b", 50);
        await window.AdmitAsync(first, CancellationToken.None);
        await window.AdmitAsync(second, CancellationToken.None);

        var third = window.AdmitAsync(Ids("c", 50), CancellationToken.None);
        Assert.False(third.IsCompleted);

        foreach (var id in first.Take(49))
        {
            window.Release(id);
        }

        Assert.False(third.IsCompleted);
        window.Release(first[49]);
        await third.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(100, window.Held);
    }

    [Fact]
    public async Task Releasing_twice_or_releasing_a_stranger_frees_nothing_extra()
    {
        var window = new AdmissionWindow(2);
        await window.AdmitAsync(["a", "b"], CancellationToken.None);
        var waiting = window.AdmitAsync(["c", "d"], CancellationToken.None);

        window.Release("a");
        window.Release("a");
        window.Release("stranger");

        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, window.Held);
        window.Release("b");
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(2, window.Held);
    }

    [Fact]
    public async Task Batches_are_admitted_in_the_order_they_asked_even_when_a_later_smaller_one_would_fit()
    {
        var window = new AdmissionWindow(10);
        await window.AdmitAsync(Ids("a", 8), CancellationToken.None);
        var big = window.AdmitAsync(Ids("big", 5), CancellationToken.None);
        var small = window.AdmitAsync(["small"], CancellationToken.None);

        Assert.False(big.IsCompleted);
        Assert.False(small.IsCompleted);

        window.Release("a-0");
        window.Release("a-1");
        window.Release("a-2");
        await big.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(small.IsCompleted);
        Assert.Equal(10, window.Held);
    }

    [Fact]
    public async Task A_batch_larger_than_the_window_goes_alone_once_the_window_is_empty()
    {
        var window = new AdmissionWindow(10);
        await window.AdmitAsync(["a"], CancellationToken.None);
        var oversized = window.AdmitAsync(Ids("big", 50), CancellationToken.None);
        Assert.False(oversized.IsCompleted);

        window.Release("a");
        await oversized.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(50, window.Held);
    }

    [Fact]
    public async Task A_cancelled_waiter_leaves_the_queue_and_lets_the_one_behind_it_in()
    {
        var window = new AdmissionWindow(10);
        await window.AdmitAsync(Ids("a", 8), CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var cancelled = window.AdmitAsync(Ids("big", 5), cancel.Token);
        var behind = window.AdmitAsync(["small"], CancellationToken.None);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        await behind.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(9, window.Held);
    }

    [Fact]
    public async Task Ids_already_inside_are_not_counted_again()
    {
        var window = new AdmissionWindow(3);
        await window.AdmitAsync(["a", "b"], CancellationToken.None);
        await window.AdmitAsync(["a", "b", "c"], CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(3, window.Held);
    }

    [Fact]
    public async Task Many_batches_released_from_many_threads_all_get_in_and_leave_nothing_behind()
    {
        var window = new AdmissionWindow(120);
        var batches = Enumerable.Range(0, 40).Select(b => Ids($"batch{b}", 50)).ToList();
        await Task.WhenAll(batches.Select(batch => Task.Run(async () =>
        {
            await window.AdmitAsync(batch, CancellationToken.None);
            Assert.InRange(window.Held, 1, 120);
            await Task.Yield();
            Parallel.ForEach(batch, window.Release);
        }))).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, window.Held);
    }
}
