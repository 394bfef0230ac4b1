using System.Collections.Concurrent;
using Arcboard.Core.Fleet;

namespace Arcboard.Core.Cloud.Pacing;

/// <summary>
/// One quota a cloud enforces: ARM counts reads, writes and deletes per subscription in separate buckets; AWS
/// throttles each service per account and region.
/// </summary>
public sealed record QuotaKey(string Service, string Owner, string Kind)
{
    public static QuotaKey ArmReads(string subscriptionId) => new("arm", subscriptionId, "reads");

    public static QuotaKey ArmWrites(string subscriptionId) => new("arm", subscriptionId, "writes");

    public static QuotaKey ArmDeletes(string subscriptionId) => new("arm", subscriptionId, "deletes");

    public static QuotaKey SsmSend(AwsScope scope) => new("ssm", scope.ToString(), "send");

    public static QuotaKey SsmReads(AwsScope scope) => new("ssm", scope.ToString(), "reads");

    public static QuotaKey Ec2Reads(AwsScope scope) => new("ec2", scope.ToString(), "reads");

    public override string ToString() => $"{Service}:{Owner}:{Kind}";
}

/// <summary>
/// Where a bucket starts: the burst and refill the cloud is believed to allow, and how many calls may be in flight.
/// Remaining-quota feedback corrects burst and refill upwards or downwards as soon as the cloud reports them.
/// </summary>
public sealed record QuotaLimit(double Burst, double RefillPerSecond, int MaxInFlight)
{
    /// <summary>The same bucket on a clock <paramref name="factor"/> times faster: the burst stays, the refill scales.</summary>
    public QuotaLimit Scaled(double factor) => this with { RefillPerSecond = RefillPerSecond * factor };

    /// <summary>
    /// ARM's published token buckets (per subscription and principal), and for AWS the rates the services are known to
    /// tolerate (SSM publishes none; SendCommand is the tightest).
    /// </summary>
    public static QuotaLimit DefaultFor(QuotaKey key, int maxParallelArmCalls = 32) => (key.Service, key.Kind) switch
    {
        ("arm", "writes") => new(200, 10, maxParallelArmCalls),
        ("arm", "deletes") => new(200, 10, maxParallelArmCalls),
        ("arm", _) => new(250, 25, maxParallelArmCalls),
        ("ssm", "send") => new(10, 5, 4),
        ("ssm", _) => new(40, 20, 8),
        ("ec2", _) => new(100, 20, 4),
        _ => new(50, 10, 4),
    };
}

/// <summary>
/// What an adapter tells the gate about a quota after each response that says how much is left
/// (<c>x-ms-ratelimit-remaining-subscription-writes|reads|deletes</c>).
/// </summary>
public interface IQuotaFeedback
{
    void Remaining(QuotaKey key, long remaining);
}

/// <summary>
/// Paces every call to the clouds per quota. A throttled call makes every caller of the same quota wait until the time
/// the cloud named (or a growing backoff when it named none), then it is tried again: throttling never fails a call,
/// only cancellation stops the wait. Quotas are independent, so one subscription or account/region being throttled
/// never slows another.
/// </summary>
public sealed class QuotaGate(TimeProvider time, Func<QuotaKey, QuotaLimit>? limits = null) : IQuotaFeedback
{
    private readonly ConcurrentDictionary<QuotaKey, QuotaBucket> _buckets = new();
    private readonly Func<QuotaKey, QuotaLimit> _limits = limits ?? (key => QuotaLimit.DefaultFor(key));

    /// <summary>Raised when a quota pauses after a throttle: the quota and how long every caller now waits.</summary>
    public event Action<QuotaKey, TimeSpan>? Throttled;

    /// <summary>Runs <paramref name="call"/> within the quota, as many times as the cloud throttles it.</summary>
    public async Task<T> RunAsync<T>(QuotaKey key, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(call);
        var bucket = Bucket(key);
        while (true)
        {
            await bucket.EnterAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var result = await call(cancellationToken).ConfigureAwait(false);
                bucket.OnSuccess();
                return result;
            }
            catch (CloudException error) when (error.IsThrottling)
            {
                var pause = bucket.OnThrottled(error.RetryAfter);
                Throttled?.Invoke(key, pause);
            }
            finally
            {
                bucket.Exit();
            }
        }
    }

    public async Task RunAsync(QuotaKey key, Func<CancellationToken, Task> call, CancellationToken cancellationToken) =>
        await RunAsync(key, async ct =>
        {
            await call(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

    public void Remaining(QuotaKey key, long remaining)
    {
        ArgumentNullException.ThrowIfNull(key);
        Bucket(key).OnRemaining(remaining);
    }

    /// <summary>How the quota stands now, for progress and tests.</summary>
    public QuotaSnapshot Snapshot(QuotaKey key) => Bucket(key).Snapshot();

    private QuotaBucket Bucket(QuotaKey key) => _buckets.GetOrAdd(key, k => new QuotaBucket(_limits(k), time));
}

public sealed record QuotaSnapshot(double Tokens, double RefillPerSecond, double Burst, DateTimeOffset PausedUntil, int InFlight, long Throttles);

/// <summary>
/// A local token bucket that mirrors the cloud's. The cloud's word wins: a remaining-quota header replaces the local
/// count, and the refill rate is learned from how much came back over a pause (tokens gained plus tokens spent, over
/// the time since the quota was seen empty).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A bucket lives as long as its gate, which lives as long as the process; its semaphore never needs a wait handle.")]
internal sealed class QuotaBucket
{
    private static readonly TimeSpan s_firstBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_minLearningWindow = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _inFlightSlots;
    private readonly Lock _lock = new();
    private double _tokens;
    private double _burst;
    private double _rate;
    private DateTimeOffset _refilledAt;
    private DateTimeOffset _pausedUntil;
    private int _inFlight;
    private int _throttlesInARow;
    private long _throttles;
    private DateTimeOffset? _emptySince;
    private long _spentSinceEmpty;

    public QuotaBucket(QuotaLimit limit, TimeProvider time)
    {
        _time = time;
        _burst = Math.Max(1, limit.Burst);
        _rate = Math.Max(0.01, limit.RefillPerSecond);
        _tokens = _burst;
        _refilledAt = time.GetUtcNow();
        _pausedUntil = DateTimeOffset.MinValue;
        _inFlightSlots = new SemaphoreSlim(Math.Max(1, limit.MaxInFlight));
    }

    public async Task EnterAsync(CancellationToken cancellationToken)
    {
        await _inFlightSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                TimeSpan wait;
                lock (_lock)
                {
                    var now = _time.GetUtcNow();
                    Refill(now);
                    if (now < _pausedUntil)
                    {
                        wait = _pausedUntil - now;
                    }
                    else if (_tokens >= 1)
                    {
                        _tokens -= 1;
                        _inFlight++;
                        return;
                    }
                    else
                    {
                        wait = TimeSpan.FromSeconds((1 - _tokens) / _rate);
                    }
                }

                await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            _inFlightSlots.Release();
            throw;
        }
    }

    public void OnSuccess()
    {
        lock (_lock)
        {
            _throttlesInARow = 0;
        }
    }

    public void Exit()
    {
        lock (_lock)
        {
            _inFlight--;
        }

        _inFlightSlots.Release();
    }

    public TimeSpan OnThrottled(TimeSpan? retryAfter)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            _throttles++;
            _throttlesInARow++;
            var pause = retryAfter is { } asked && asked > TimeSpan.Zero
                ? asked
                : TimeSpan.FromTicks(Math.Min(s_maxBackoff.Ticks, s_firstBackoff.Ticks << Math.Min(_throttlesInARow - 1, 10)));
            var until = now + pause;
            if (until > _pausedUntil)
            {
                _pausedUntil = until;
            }

            // The cloud says the bucket is empty now; it refills while everyone waits, so the pause's end finds tokens.
            Refill(now);
            _tokens = Math.Min(_tokens, 0);
            if (_emptySince is null)
            {
                _emptySince = now;
                _spentSinceEmpty = 0;
            }

            return _pausedUntil - now;
        }
    }

    public void OnRemaining(long remaining)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            Refill(now);
            _throttlesInARow = 0;
            _spentSinceEmpty++;
            if (_emptySince is { } empty && now - empty >= s_minLearningWindow)
            {
                // Since the bucket was seen empty the cloud refilled what is left now plus what was spent meanwhile.
                var learned = (remaining + _spentSinceEmpty) / (now - empty).TotalSeconds;
                _rate = Math.Max(0.01, learned);
                _emptySince = null;
            }

            // Calls still in flight will spend tokens the cloud has not counted yet.
            var others = Math.Max(0, _inFlight - 1);
            _tokens = remaining - others;
            _burst = Math.Max(_burst, remaining + 1);
            if (remaining <= others)
            {
                if (_emptySince is null)
                {
                    _emptySince = now;
                    _spentSinceEmpty = 0;
                }
            }
            else if (_emptySince is { } since && now - since < s_minLearningWindow && remaining > _rate)
            {
                // Plenty left again before a rate could be learned: stop measuring from a stale start.
                _emptySince = null;
            }
        }
    }

    public QuotaSnapshot Snapshot()
    {
        lock (_lock)
        {
            Refill(_time.GetUtcNow());
            return new QuotaSnapshot(_tokens, _rate, _burst, _pausedUntil, _inFlight, _throttles);
        }
    }

    private void Refill(DateTimeOffset now)
    {
        if (now <= _refilledAt)
        {
            return;
        }

        _tokens = Math.Min(_burst, _tokens + ((now - _refilledAt).TotalSeconds * _rate));
        _refilledAt = now;
    }
}
