using Arcboard.Sandbox.Realism;
using Microsoft.Extensions.Time.Testing;

namespace Arcboard.Sandbox.Tests.Realism;

public sealed class TokenBucketTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    [Fact]
    public void A_full_bucket_allows_its_burst_and_reports_what_is_left()
    {
        var bucket = new TokenBucket(new BucketSpec(3, 10), _time);

        bucket.TryTake().ShouldBe(new BucketDecision(true, 2, TimeSpan.Zero));
        bucket.TryTake().Remaining.ShouldBe(1);
        bucket.TryTake().Remaining.ShouldBe(0);
        bucket.TryTake().Allowed.ShouldBeFalse();
    }

    [Fact]
    public void A_refused_call_takes_no_token_and_is_told_the_exact_milliseconds_until_one_is_there()
    {
        var bucket = new TokenBucket(new BucketSpec(1, 10), _time);
        bucket.TryTake().Allowed.ShouldBeTrue();

        var refused = bucket.TryTake();
        refused.Allowed.ShouldBeFalse();
        refused.RetryAfter.ShouldBe(TimeSpan.FromMilliseconds(100));
        refused.RetryAfterSeconds.ShouldBe(1);

        // Refusals did not dig the bucket deeper: the wait shrinks with the clock alone.
        _time.Advance(TimeSpan.FromMilliseconds(40));
        bucket.TryTake().RetryAfter.ShouldBe(TimeSpan.FromMilliseconds(60));
        bucket.TryTake().RetryAfter.ShouldBe(TimeSpan.FromMilliseconds(60));

        _time.Advance(TimeSpan.FromMilliseconds(60));
        bucket.TryTake().ShouldBe(new BucketDecision(true, 0, TimeSpan.Zero));
    }

    [Fact]
    public void Refill_is_continuous_and_capped_at_the_burst()
    {
        var bucket = new TokenBucket(new BucketSpec(200, 10), _time);
        for (var i = 0; i < 200; i++)
        {
            bucket.TryTake().Allowed.ShouldBeTrue();
        }

        bucket.Remaining.ShouldBe(0);
        _time.Advance(TimeSpan.FromSeconds(2.55));
        bucket.Remaining.ShouldBe(25);
        _time.Advance(TimeSpan.FromHours(1));
        bucket.Remaining.ShouldBe(200);
    }

    [Fact]
    public void Retry_after_seconds_round_up()
    {
        var bucket = new TokenBucket(new BucketSpec(1, 0.4), _time);
        bucket.TryTake();

        var refused = bucket.TryTake();
        refused.RetryAfter.ShouldBe(TimeSpan.FromMilliseconds(2500));
        refused.RetryAfterSeconds.ShouldBe(3);
    }
}
