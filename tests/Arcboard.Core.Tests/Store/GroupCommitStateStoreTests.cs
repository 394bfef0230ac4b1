using Arcboard.Core.Fleet;
using Arcboard.Core.State;
using Arcboard.Store.Sqlite;
using Shouldly;
using Xunit;

namespace Arcboard.Core.Tests.Store;

public sealed class GroupCommitStateStoreTests
{
    private static InstanceRecord Record(int i, OnboardingStage stage = OnboardingStage.Discovered) => new()
    {
        Key = new InstanceKey("111111111111", "us-east-1", $"i-{i:x17}"),
        Platform = Platform.Linux,
        Stage = stage,
        UpdatedAt = DateTimeOffset.UnixEpoch,
    };

    [Fact]
    public async Task Concurrent_saves_share_transactions_and_each_returns_only_once_committed()
    {
        using var folder = new TempFolder();
        var firstCommit = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var counting = new CountingStore(new SqliteStateStore(Path.Combine(folder.Path, "s.db"), TimeProvider.System)) { HoldFirst = firstCommit.Task };
        await using var store = new GroupCommitStateStore(counting);
        await store.InitializeAsync(CancellationToken.None);

        // The first save's transaction is held on the disk while the other 499 arrive, as a slow fsync would hold it.
        var first = store.SaveAsync(Record(0), CancellationToken.None);
        await counting.FirstStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var rest = Enumerable.Range(1, 499).Select(i => store.SaveAsync(Record(i), CancellationToken.None)).ToList();
        first.IsCompleted.ShouldBeFalse();
        rest.ShouldAllBe(save => !save.IsCompleted);
        firstCommit.SetResult();
        await Task.WhenAll([first, .. rest]);

        (await store.ListAsync(CancellationToken.None)).Count.ShouldBe(500);
        counting.Transactions.ShouldBe(2);
        counting.Records.ShouldBe(500);
    }

    [Fact]
    public async Task A_later_save_of_the_same_instance_wins()
    {
        using var folder = new TempFolder();
        await using var store = new GroupCommitStateStore(new SqliteStateStore(Path.Combine(folder.Path, "s.db"), TimeProvider.System));
        await store.InitializeAsync(CancellationToken.None);

        var first = store.SaveAsync(Record(1, OnboardingStage.KeyRequesting), CancellationToken.None);
        var second = store.SaveAsync(Record(1, OnboardingStage.KeyRequested), CancellationToken.None);
        await Task.WhenAll(first, second);

        (await store.GetAsync(Record(1).Key, CancellationToken.None))!.Stage.ShouldBe(OnboardingStage.KeyRequested);
    }

    [Fact]
    public async Task A_failing_record_fails_its_own_save_only()
    {
        var failing = new CountingStore(new MemoryOnlyStore()) { FailFor = Record(2).Key };
        await using var store = new GroupCommitStateStore(failing);

        var saves = Enumerable.Range(0, 5).Select(i => store.SaveAsync(Record(i), CancellationToken.None)).ToList();
        await Should.ThrowAsync<InvalidOperationException>(() => saves[2]);
        await Task.WhenAll(saves.Where((_, i) => i != 2));

        failing.Saved.Select(k => k.InstanceId).Order().ShouldBe(new[] { 0, 1, 3, 4 }.Select(i => Record(i).Key.InstanceId));
    }

    private sealed class CountingStore(IStateStore inner) : IStateStore
    {
        private int _transactions;
        private int _records;

        public int Transactions => _transactions;
        public int Records => _records;
        public InstanceKey? FailFor { get; init; }

        /// <summary>The first transaction does not commit before this completes.</summary>
        public Task? HoldFirst { get; init; }

        public TaskCompletionSource FirstStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public List<InstanceKey> Saved { get; } = [];

        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);
        public Task<InstanceRecord?> GetAsync(InstanceKey key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);
        public Task<IReadOnlyList<InstanceRecord>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);
        public Task<IReadOnlyList<InstanceRecord>> ListAsync(AwsScope scope, CancellationToken cancellationToken) => inner.ListAsync(scope, cancellationToken);
        public Task SaveAsync(InstanceRecord record, CancellationToken cancellationToken) => SaveAllAsync([record], cancellationToken);

        public async Task SaveAllAsync(IReadOnlyCollection<InstanceRecord> records, CancellationToken cancellationToken)
        {
            if (FailFor is { } bad && records.Any(r => r.Key == bad))
            {
                throw new InvalidOperationException("refused");
            }

            if (HoldFirst is not null && Volatile.Read(ref _transactions) == 0)
            {
                FirstStarted.TrySetResult();
                await HoldFirst;
            }

            await inner.SaveAllAsync(records, cancellationToken);
            Interlocked.Increment(ref _transactions);
            Interlocked.Add(ref _records, records.Count);
            lock (Saved)
            {
                Saved.AddRange(records.Select(r => r.Key));
            }
        }

        public Task<IReadOnlyList<InstanceKey>> FindByPublicKeyAsync(string publicKey, CancellationToken cancellationToken) => inner.FindByPublicKeyAsync(publicKey, cancellationToken);
        public Task DeleteAsync(InstanceKey key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);
        public Task<IReadOnlyList<string>> CheckIntegrityAsync(CancellationToken cancellationToken) => inner.CheckIntegrityAsync(cancellationToken);
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private sealed class MemoryOnlyStore : IStateStore
    {
        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task<InstanceRecord?> GetAsync(InstanceKey key, CancellationToken cancellationToken) => Task.FromResult<InstanceRecord?>(null);
        public Task<IReadOnlyList<InstanceRecord>> ListAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<InstanceRecord>>([]);
        public Task<IReadOnlyList<InstanceRecord>> ListAsync(AwsScope scope, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<InstanceRecord>>([]);
        public Task SaveAsync(InstanceRecord record, CancellationToken cancellationToken) => Task.CompletedTask;
        public Task SaveAllAsync(IReadOnlyCollection<InstanceRecord> records, CancellationToken cancellationToken) => Task.CompletedTask;
        public Task<IReadOnlyList<InstanceKey>> FindByPublicKeyAsync(string publicKey, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<InstanceKey>>([]);
        public Task DeleteAsync(InstanceKey key, CancellationToken cancellationToken) => Task.CompletedTask;
        public Task<IReadOnlyList<string>> CheckIntegrityAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([]);
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
