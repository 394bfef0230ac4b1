namespace Arcboard.Core.Onboarding;

/// <summary>
/// Bounds how many instances are between two points of the pipeline at once: admitted a batch at a time, in the order
/// asked, and released one by one. Releasing is idempotent, so every path that ends an instance's stay may release it
/// without counting it twice.
/// </summary>
/// <remarks>
/// A batch larger than the whole window is admitted once the window is empty, so no batch size can wedge the pipeline.
/// </remarks>
public sealed class AdmissionWindow
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _held = new(StringComparer.Ordinal);
    private readonly LinkedList<Waiter> _waiting = [];

    public AdmissionWindow(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    public int Capacity { get; }

    /// <summary>How many instances are inside the window now.</summary>
    public int Held
    {
        get
        {
            lock (_lock)
            {
                return _held.Count;
            }
        }
    }

    /// <summary>Waits until the whole batch fits, behind every batch that asked earlier. Ids already inside are not counted again.</summary>
    public async Task AdmitAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        lock (_lock)
        {
            var entering = ids.Where(id => !_held.Contains(id)).Distinct(StringComparer.Ordinal).ToArray();
            if (_waiting.Count == 0 && Fits(entering.Length))
            {
                _held.UnionWith(entering);
                return;
            }

            waiter = new Waiter(entering);
            waiter.Node = _waiting.AddLast(waiter);
        }

        try
        {
            await waiter.Admitted.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Abandon(waiter);
            throw;
        }
    }

    /// <summary>Lets the instance out; a no-op when it is not inside.</summary>
    public void Release(string id)
    {
        List<Waiter> admitted;
        lock (_lock)
        {
            if (!_held.Remove(id))
            {
                return;
            }

            admitted = AdmitWaiting();
        }

        Complete(admitted);
    }

    private bool Fits(int count) => _held.Count == 0 || _held.Count + count <= Capacity;

    private List<Waiter> AdmitWaiting()
    {
        var admitted = new List<Waiter>();
        while (_waiting.First is { } first && Fits(first.Value.Ids.Length))
        {
            _waiting.RemoveFirst();
            first.Value.Node = null;
            _held.UnionWith(first.Value.Ids);
            admitted.Add(first.Value);
        }

        return admitted;
    }

    /// <summary>A cancelled batch leaves the queue, or, when it was admitted just as it was cancelled, the window.</summary>
    private void Abandon(Waiter waiter)
    {
        List<Waiter> admitted;
        lock (_lock)
        {
            if (waiter.Node is not null)
            {
                _waiting.Remove(waiter.Node);
                waiter.Node = null;
            }
            else
            {
                _held.ExceptWith(waiter.Ids);
            }

            // The batches behind it may fit now.
            admitted = AdmitWaiting();
        }

        Complete(admitted);
    }

    private static void Complete(List<Waiter> admitted)
    {
        foreach (var waiter in admitted)
        {
            waiter.Admitted.TrySetResult();
        }
    }

    private sealed class Waiter(string[] ids)
    {
        public string[] Ids { get; } = ids;
        public TaskCompletionSource Admitted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public LinkedListNode<Waiter>? Node { get; set; }
    }
}
