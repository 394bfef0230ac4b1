using Arcboard.Core.Cloud;

namespace Arcboard.Core.Onboarding;

/// <summary>
/// Retries a call that failed transiently with full-jitter exponential backoff, waiting at least as long as the
/// service asked (Retry-After). Permanent failures and the last transient one propagate. Throttling is not a failure
/// of the call: it waits as asked and never uses up an attempt, so only cancellation ends a throttled call.
/// </summary>
public sealed class TransientRetry(TimeProvider time, int maxAttempts, TimeSpan baseDelay, TimeSpan maxDelay, Random? random = null)
{
    private readonly Random _random = random ?? Random.Shared;

    /// <summary>Raised before each wait, for logging: the attempt that failed, the error and the delay chosen.</summary>
    public event Action<int, CloudException, TimeSpan>? Retrying;

    public async Task<T> ExecuteAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var attempt = 1;
        var throttled = 0;
        while (true)
        {
            try
            {
                return await call(cancellationToken).ConfigureAwait(false);
            }
            catch (CloudException error) when (error.IsThrottling)
            {
                throttled++;
                var delay = DelayFor(Math.Min(throttled, 6), error.RetryAfter);
                Retrying?.Invoke(attempt, error, delay);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
            catch (CloudException error) when (error.IsTransient && attempt < maxAttempts)
            {
                var delay = DelayFor(attempt++, error.RetryAfter);
                Retrying?.Invoke(attempt, error, delay);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public Task ExecuteAsync(Func<CancellationToken, Task> call, CancellationToken cancellationToken) =>
        ExecuteAsync(async ct =>
        {
            await call(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    public TimeSpan DelayFor(int attempt, TimeSpan? retryAfter)
    {
        var ceiling = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1));
        var jittered = TimeSpan.FromMilliseconds(_random.NextDouble() * ceiling);
        return retryAfter is { } asked && asked > jittered ? asked : jittered;
    }
}
