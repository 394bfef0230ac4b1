using Arcboard.Core.Fleet;

namespace Arcboard.Core.State;

/// <summary>
/// Commits concurrent saves together: every save still returns only once its record is durably committed, but the
/// saves that arrive while one transaction is being written share the next one. At fleet scale hundreds of instances
/// settle each second, and one synchronous disk flush per record would make the store the slowest step of onboarding.
/// </summary>
public sealed class GroupCommitStateStore(IStateStore inner) : IStateStore
{
    /// <summary>Keeps one transaction short enough that a crash or a slow disk never holds many callers for long.</summary>
    private const int MaxRecordsPerTransaction = 1000;

    private readonly Lock _lock = new();
    private readonly List<PendingSave> _queue = [];
    private bool _writing;

    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public Task<InstanceRecord?> GetAsync(InstanceKey key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

    public Task<IReadOnlyList<InstanceRecord>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

    public Task<IReadOnlyList<InstanceRecord>> ListAsync(AwsScope scope, CancellationToken cancellationToken) => inner.ListAsync(scope, cancellationToken);

    public Task<IReadOnlyList<InstanceKey>> FindByPublicKeyAsync(string publicKey, CancellationToken cancellationToken) =>
        inner.FindByPublicKeyAsync(publicKey, cancellationToken);

    public Task DeleteAsync(InstanceKey key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);

    public Task<IReadOnlyList<string>> CheckIntegrityAsync(CancellationToken cancellationToken) => inner.CheckIntegrityAsync(cancellationToken);

    public Task SaveAsync(InstanceRecord record, CancellationToken cancellationToken) => EnqueueAsync([record]);

    public Task SaveAllAsync(IReadOnlyCollection<InstanceRecord> records, CancellationToken cancellationToken) =>
        records.Count == 0 ? Task.CompletedTask : EnqueueAsync(records);

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    /// <summary>
    /// A save is never abandoned half way because its caller was cancelled: the record is the only memory of a side
    /// effect already made, so the cancellation token is deliberately not passed on.
    /// </summary>
    private Task EnqueueAsync(IReadOnlyCollection<InstanceRecord> records)
    {
        var pending = new PendingSave(records);
        bool lead;
        lock (_lock)
        {
            _queue.Add(pending);
            lead = !_writing;
            _writing = true;
        }

        if (lead)
        {
            _ = Task.Run(WriteQueuedAsync);
        }

        return pending.Committed.Task;
    }

    private async Task WriteQueuedAsync()
    {
        while (true)
        {
            List<PendingSave> batch;
            lock (_lock)
            {
                if (_queue.Count == 0)
                {
                    _writing = false;
                    return;
                }

                batch = TakeBatch();
            }

            if (await TrySaveAsync(batch.SelectMany(p => p.Records)).ConfigureAwait(false) is null)
            {
                batch.ForEach(p => p.Committed.TrySetResult());
                continue;
            }

            // One bad record must not fail the saves that merely shared its transaction: each is tried on its own.
            foreach (var pending in batch)
            {
                var error = await TrySaveAsync(pending.Records).ConfigureAwait(false);
                if (error is null)
                {
                    pending.Committed.TrySetResult();
                }
                else
                {
                    pending.Committed.TrySetException(error);
                }
            }
        }
    }

    /// <summary>Records keep their arrival order, so a later save of the same instance wins inside the transaction.</summary>
    private async Task<Exception?> TrySaveAsync(IEnumerable<InstanceRecord> records)
    {
        try
        {
            await inner.SaveAllAsync([.. records], CancellationToken.None).ConfigureAwait(false);
            return null;
        }
#pragma warning disable CA1031 // Every waiting caller must learn why its save failed; none may be left hanging.
        catch (Exception error)
#pragma warning restore CA1031
        {
            return error;
        }
    }

    private List<PendingSave> TakeBatch()
    {
        var count = 0;
        var taken = 0;
        while (taken < _queue.Count && (taken == 0 || count + _queue[taken].Records.Count <= MaxRecordsPerTransaction))
        {
            count += _queue[taken].Records.Count;
            taken++;
        }

        var batch = _queue.GetRange(0, taken);
        _queue.RemoveRange(0, taken);
        return batch;
    }

    private sealed class PendingSave(IReadOnlyCollection<InstanceRecord> records)
    {
        public IReadOnlyCollection<InstanceRecord> Records { get; } = records;
        public TaskCompletionSource Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
