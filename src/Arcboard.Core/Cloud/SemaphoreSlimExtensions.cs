namespace Arcboard.Core.Cloud;

internal static class SemaphoreSlimExtensions
{
    /// <summary>Runs <paramref name="call"/> holding one of the semaphore's slots, and gives the slot back however it ends.</summary>
    public static async Task<T> RunInSlotAsync<T>(this SemaphoreSlim slots, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await call(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            slots.Release();
        }
    }
}
