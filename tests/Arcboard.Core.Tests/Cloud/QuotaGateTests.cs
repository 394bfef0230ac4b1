using Arcboard.Core.Cloud;
using Arcboard.Core.Cloud.Pacing;
using Arcboard.Core.Fleet;
using Microsoft.Extensions.Time.Testing;

namespace Arcboard.Core.Tests.Cloud;

public sealed class QuotaGateTests
{
    private static readonly QuotaKey Writes = QuotaKey.ArmWrites("sub-a");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    private QuotaGate Gate(double burst = 1000, double refill = 1000, int inFlight = 100) => new(_time, _ => new QuotaLimit(burst, refill, inFlight));

    private static CloudException Throttle(TimeSpan? retryAfter) => new("arm", "TooManyRequests", "throttled", isTransient: true, retryAfter, 429);

    /// <summary>Lets every continuation that is ready run, without moving the clock.</summary>
    private static async Task Settle()
    {
        for (var i = 0; i < 20; i++)
        {
            await Task.Delay(1);
        }
    }

    [Fact]
    public async Task A_burst_of_429s_with_retry_after_makes_every_caller_wait_exactly_that_long()
    {
        var gate = Gate();
        var inFlight = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = 0;
        var calledAt = new System.Collections.Concurrent.ConcurrentBag<DateTimeOffset>();
        var start = _time.GetUtcNow();
        // Ten calls are in flight when the cloud starts answering 429 with Retry-After: 7 to each of them.
        var calls = Enumerable.Range(0, 10).Select(_ => gate.RunAsync(Writes, async _ =>
        {
            if (Interlocked.Increment(ref attempts) <= 10)
            {
                await inFlight.Task;
                throw Throttle(TimeSpan.FromSeconds(7));
            }

            calledAt.Add(_time.GetUtcNow());
            return 1;
        }, CancellationToken.None)).ToList();
        await Settle();
        inFlight.SetResult();
        await Settle();

        _time.Advance(TimeSpan.FromSeconds(6.9));
        await Settle();
        calledAt.ShouldBeEmpty();
        _time.Advance(TimeSpan.FromSeconds(0.1));
        await Task.WhenAll(calls);

        attempts.ShouldBe(20);
        calledAt.Count.ShouldBe(10);
        calledAt.ShouldAllBe(t => t == start + TimeSpan.FromSeconds(7));
    }

    [Fact]
    public async Task After_a_429_the_other_callers_wait_instead_of_spending_the_bucket()
    {
        var gate = Gate();
        var attempts = 0;
        var calls = Enumerable.Range(0, 10).Select(_ => gate.RunAsync(Writes, _ =>
        {
            if (Interlocked.Increment(ref attempts) == 1)
            {
                throw Throttle(TimeSpan.FromSeconds(3));
            }

            return Task.FromResult(1);
        }, CancellationToken.None)).ToList();
        await Settle();

        // Only the first call reached the cloud; the nine behind it never sent a request into a throttled bucket.
        attempts.ShouldBe(1);
        _time.Advance(TimeSpan.FromSeconds(3));
        await Task.WhenAll(calls);
        attempts.ShouldBe(11);
    }

    [Fact]
    public async Task A_call_that_arrives_during_a_pause_waits_for_its_end_too()
    {
        var gate = Gate();
        var first = true;
        var throttled = gate.RunAsync(Writes, _ =>
        {
            if (first)
            {
                first = false;
                throw Throttle(TimeSpan.FromSeconds(5));
            }

            return Task.FromResult(1);
        }, CancellationToken.None);
        await Settle();

        var ranAt = DateTimeOffset.MinValue;
        _time.Advance(TimeSpan.FromSeconds(2));
        var newcomer = gate.RunAsync(Writes, _ => Task.FromResult(ranAt = _time.GetUtcNow()), CancellationToken.None);
        await Settle();
        newcomer.IsCompleted.ShouldBeFalse();

        _time.Advance(TimeSpan.FromSeconds(3));
        await Task.WhenAll(throttled, newcomer);
        ranAt.ShouldBe(new DateTimeOffset(2026, 12, 1, 0, 0, 5, TimeSpan.Zero));
    }

    [Fact]
    public async Task Throttling_never_fails_a_call_only_cancellation_ends_it()
    {
        var gate = Gate();
        var attempts = 0;
        var call = gate.RunAsync(Writes, _ =>
        {
            // Fifty throttles in a row, more than any attempt budget, with and without Retry-After.
            if (++attempts <= 50)
            {
                throw Throttle(attempts % 2 == 0 ? TimeSpan.FromSeconds(1) : null);
            }

            return Task.FromResult("done");
        }, CancellationToken.None);

        while (!call.IsCompleted)
        {
            await Task.Delay(1);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        (await call).ShouldBe("done");
        attempts.ShouldBe(51);

        using var cancel = new CancellationTokenSource();
        var endless = gate.RunAsync<int>(Writes, _ => throw Throttle(TimeSpan.FromSeconds(1)), cancel.Token);
        await Settle();
        await cancel.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(endless);
    }

    [Fact]
    public async Task A_permanent_error_is_not_retried()
    {
        var gate = Gate();
        var attempts = 0;
        await Should.ThrowAsync<CloudException>(gate.RunAsync<int>(Writes, _ =>
        {
            attempts++;
            throw new CloudException("arm", "AuthorizationFailed", "no", isTransient: false, null, 403);
        }, CancellationToken.None));
        attempts.ShouldBe(1);
    }

    [Fact]
    public async Task Remaining_zero_pauses_callers_until_the_bucket_refills()
    {
        var gate = Gate(burst: 200, refill: 10);
        await gate.RunAsync(Writes, _ =>
        {
            gate.Remaining(Writes, 0);
            return Task.FromResult(1);
        }, CancellationToken.None);

        var next = gate.RunAsync(Writes, _ => Task.FromResult(_time.GetUtcNow()), CancellationToken.None);
        await Settle();
        next.IsCompleted.ShouldBeFalse();

        // One token comes back after 1/10 s at the bucket's refill rate.
        _time.Advance(TimeSpan.FromMilliseconds(100));
        (await next).ShouldBe(new DateTimeOffset(2026, 12, 1, 0, 0, 0, 100, TimeSpan.Zero));
    }

    [Fact]
    public async Task The_refill_rate_is_learned_from_what_came_back_over_a_pause()
    {
        // Believed 10/s, really 100/s: after a second the cloud reports 99 left after this call.
        var gate = Gate(burst: 200, refill: 10);
        await gate.RunAsync(Writes, _ =>
        {
            gate.Remaining(Writes, 0);
            return Task.FromResult(1);
        }, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(1));
        await gate.RunAsync(Writes, _ =>
        {
            gate.Remaining(Writes, 99);
            return Task.FromResult(1);
        }, CancellationToken.None);

        gate.Snapshot(Writes).RefillPerSecond.ShouldBe(100, tolerance: 1);
    }

    [Fact]
    public async Task One_subscription_throttled_does_not_slow_another()
    {
        var gate = Gate();
        var throttled = gate.RunAsync<int>(QuotaKey.ArmWrites("sub-a"), _ => throw Throttle(TimeSpan.FromMinutes(5)), CancellationToken.None);
        await Settle();

        (await gate.RunAsync(QuotaKey.ArmWrites("sub-b"), _ => Task.FromResult(2), CancellationToken.None)).ShouldBe(2);
        // Reads of the throttled subscription are their own bucket too.
        (await gate.RunAsync(QuotaKey.ArmReads("sub-a"), _ => Task.FromResult(3), CancellationToken.None)).ShouldBe(3);
        throttled.IsCompleted.ShouldBeFalse();
    }

    [Fact]
    public async Task One_account_and_region_throttled_does_not_slow_another()
    {
        var gate = Gate();
        var east = new AwsScope("111111111111", "us-east-1");
        var west = new AwsScope("111111111111", "us-west-2");
        var other = new AwsScope("222222222222", "us-east-1");
        var throttled = gate.RunAsync<int>(QuotaKey.SsmSend(east), _ => throw new CloudException("ssm", "ThrottlingException", "Rate exceeded", isTransient: true, null, 400), CancellationToken.None);
        await Settle();

        (await gate.RunAsync(QuotaKey.SsmSend(west), _ => Task.FromResult(1), CancellationToken.None)).ShouldBe(1);
        (await gate.RunAsync(QuotaKey.SsmSend(other), _ => Task.FromResult(1), CancellationToken.None)).ShouldBe(1);
        (await gate.RunAsync(QuotaKey.Ec2Reads(east), _ => Task.FromResult(1), CancellationToken.None)).ShouldBe(1);
        throttled.IsCompleted.ShouldBeFalse();
    }

    [Fact]
    public async Task In_flight_calls_per_quota_are_bounded()
    {
        var gate = Gate(inFlight: 3);
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        var peak = 0;
        var calls = Enumerable.Range(0, 10).Select(_ => gate.RunAsync(Writes, async _ =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref peak, now);
            await release.Task;
            Interlocked.Decrement(ref running);
            return 1;
        }, CancellationToken.None)).ToList();
        await Settle();

        peak.ShouldBe(3);
        release.SetResult(1);
        await Task.WhenAll(calls);
    }

    [Fact]
    public async Task Calls_beyond_the_burst_are_spaced_at_the_refill_rate()
    {
        var gate = Gate(burst: 2, refill: 4);
        var times = new System.Collections.Concurrent.ConcurrentBag<DateTimeOffset>();
        var calls = Enumerable.Range(0, 4).Select(_ => gate.RunAsync(Writes, _ =>
        {
            times.Add(_time.GetUtcNow());
            return Task.FromResult(1);
        }, CancellationToken.None)).ToList();
        await Settle();
        times.Count.ShouldBe(2);

        _time.Advance(TimeSpan.FromMilliseconds(250));
        await Settle();
        times.Count.ShouldBe(3);
        _time.Advance(TimeSpan.FromMilliseconds(250));
        await Task.WhenAll(calls);
        times.Count.ShouldBe(4);
    }

    [Fact]
    public void A_scaled_quota_keeps_its_burst_and_refills_that_many_times_faster()
    {
        var ssmReads = QuotaLimit.DefaultFor(QuotaKey.SsmReads(new Arcboard.Core.Fleet.AwsScope("111111111111", "us-east-1")));

        var scaled = ssmReads.Scaled(10);

        scaled.Burst.ShouldBe(ssmReads.Burst);
        scaled.RefillPerSecond.ShouldBe(ssmReads.RefillPerSecond * 10);
        scaled.MaxInFlight.ShouldBe(ssmReads.MaxInFlight);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
