using System.Collections.Concurrent;
using System.Threading.Channels;
using Arcboard.Core.Cloud;
using Arcboard.Core.Fleet;
using Arcboard.Core.Scripts;
using Arcboard.Core.State;
using Microsoft.Extensions.Logging;

namespace Arcboard.Core.Onboarding;

/// <summary>
/// One level-triggered pass over every account and region: observe EC2, SSM, ARM and the store, then move each
/// eligible instance forward from the stage the store records, saving each stage before the step that leaves it.
/// A pass can be cut anywhere (crash, SIGKILL, Ctrl+C); the next one resumes from the store without duplicates.
/// </summary>
public sealed partial class OnboardingReconciler(
    IAwsInventory inventory,
    IRunCommand runCommand,
    IArcMachines arm,
    IStateStore store,
    OnboardingPolicy policy,
    TimeProvider time,
    ILogger<OnboardingReconciler> logger) : IDisposable
{
    private readonly TransientRetry _retry = CreateRetry(policy, time, logger);
    private readonly SemaphoreSlim _armCalls = new(policy.MaxParallelArmCalls, policy.MaxParallelArmCalls);
    private readonly ConcurrentDictionary<string, Lazy<Task>> _resourceGroups = new(StringComparer.OrdinalIgnoreCase);

    // Within one pass, which instance each machine name and each public key went to: two instances placed at one name
    // must not overwrite each other's machine, and one key must not be registered for two instances.
    private readonly ConcurrentDictionary<string, InstanceKey> _claimedNames = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, InstanceKey> _claimedKeys = new(StringComparer.Ordinal);

    public void Dispose() => _armCalls.Dispose();

    /// <summary>The other instance this machine name already went to in this pass, or null when it is this instance's.</summary>
    private InstanceKey? ClaimName(MachineRef machine, InstanceKey instance)
    {
        var holder = _claimedNames.GetOrAdd($"{machine.ResourceGroup}/{machine.Name}", instance);
        return holder == instance ? null : holder;
    }

    /// <summary>The other instance this public key is already recorded for (in the store or earlier in this pass), or null.</summary>
    private async Task<InstanceKey?> KeyHolderAsync(InstanceKey instance, string publicKey, CancellationToken cancellationToken)
    {
        var holders = await store.FindByPublicKeyAsync(publicKey, cancellationToken).ConfigureAwait(false);
        var other = holders.FirstOrDefault(h => h != instance);
        if (other is not null)
        {
            return other;
        }

        var claimed = _claimedKeys.GetOrAdd(publicKey, instance);
        return claimed == instance ? null : claimed;
    }

    public async Task<SyncReport> SyncAsync(IReadOnlyList<AwsScope> scopes, ISyncObserver? observer, CancellationToken cancellationToken)
    {
        observer ??= NullSyncObserver.Instance;
        observer.PassStarted(scopes);
        var reports = new ConcurrentBag<InstanceReport>();
        var errors = new ConcurrentBag<ScopeError>();
        _resourceGroups.Clear();
        _claimedNames.Clear();
        _claimedKeys.Clear();
        // One window for the whole pass: every account and region creates its machines within the one subscription's quota.
        var keysAhead = new AdmissionWindow(Math.Max(1, policy.MaxKeysAhead));

        await Parallel.ForEachAsync(
            scopes,
            new ParallelOptions { MaxDegreeOfParallelism = policy.MaxParallelScopes, CancellationToken = cancellationToken },
            async (scope, ct) =>
            {
                var pass = new ScopePass(this, scope, observer, keysAhead);
                try
                {
                    await pass.RunAsync(ct).ConfigureAwait(false);
                }
                catch (CloudException error)
                {
                    var scopeError = new ScopeError(scope.AccountId, scope.Region, $"could not list the account and region: {error.Message}");
                    errors.Add(scopeError);
                    observer.ScopeFailed(scopeError);
                    Log.ScopeFailed(logger, scope.AccountId, scope.Region, error.Code, error.Message);
                }

                foreach (var report in pass.Reports)
                {
                    reports.Add(report);
                }
            }).ConfigureAwait(false);

        var ordered = reports
            .OrderBy(r => r.AccountId, StringComparer.Ordinal)
            .ThenBy(r => r.Region, StringComparer.Ordinal)
            .ThenBy(r => r.InstanceId, StringComparer.Ordinal)
            .ToList();
        return new SyncReport(ordered, errors.OrderBy(e => e.AccountId, StringComparer.Ordinal).ThenBy(e => e.Region, StringComparer.Ordinal).ToList());
    }

    private static TransientRetry CreateRetry(OnboardingPolicy policy, TimeProvider time, ILogger logger)
    {
        var retry = new TransientRetry(time, policy.MaxAttempts, policy.RetryBaseDelay, policy.RetryMaxDelay);
        retry.Retrying += (attempt, error, delay) => Log.Retrying(logger, error.Service, error.Code, attempt, delay.TotalSeconds);
        return retry;
    }

    private Task EnsureResourceGroupAsync(string resourceGroup, string location, CancellationToken cancellationToken)
    {
        // One PUT per group per pass, shared by every instance that lands in it; a failed attempt is forgotten so the next instance tries again.
        var lazy = _resourceGroups.GetOrAdd(resourceGroup, name => new Lazy<Task>(() => WithArmSlotAsync(
            ct => _retry.ExecuteAsync(c => arm.EnsureResourceGroupAsync(policy.SubscriptionId, name, location, c), ct),
            cancellationToken)));
        return AwaitOrForgetAsync(resourceGroup, lazy);
    }

    private async Task AwaitOrForgetAsync(string resourceGroup, Lazy<Task> lazy)
    {
        try
        {
            await lazy.Value.ConfigureAwait(false);
        }
        catch
        {
            _resourceGroups.TryRemove(new KeyValuePair<string, Lazy<Task>>(resourceGroup, lazy));
            throw;
        }
    }

    private Task<T> WithArmSlotAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) =>
        _armCalls.RunInSlotAsync(call, cancellationToken);

    private async Task WithArmSlotAsync(Func<CancellationToken, Task> call, CancellationToken cancellationToken) =>
        await WithArmSlotAsync(async ct =>
        {
            await call(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>The work on one account and region during one pass.</summary>
    private sealed class ScopePass(OnboardingReconciler owner, AwsScope scope, ISyncObserver observer, AdmissionWindow keysAhead)
    {
        private readonly Dictionary<string, InstanceRecord> _records = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Ec2Instance> _instances = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Placement> _placements = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, InstanceReport> _reports = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Dictionary<string, ArcMachine>> _listing = new(StringComparer.OrdinalIgnoreCase);

        // The machine names this pass's instances use. A resource group shared with other accounts and regions can hold
        // tens of thousands of machines; the listing keeps only these, the ones this pass ever looks up.
        private readonly HashSet<string> _ourNames = new(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, string> _listingErrors = new(StringComparer.OrdinalIgnoreCase);
        private readonly Lock _recordsLock = new();

        // Instances whose key is in hand and whose machine creation has not finished: they stay in the keys-ahead window
        // after their genkey command ends, and creation lets them out.
        private readonly ConcurrentDictionary<string, byte> _awaitingCreation = new(StringComparer.Ordinal);

        // Verdicts reached while the scope is being listed wait for the listing's own news, so an observer counting
        // verdicts against instances listed never sees more of the first than of the second.
        private List<InstanceReport>? _verdictsBeforeListed;

        private OnboardingPolicy Policy => owner.Policy;
        private TimeProvider Time => owner.Time;
        private IStateStore Store => owner.Store;
        private ILogger Logger => owner.Logger;

        public IEnumerable<InstanceReport> Reports => _reports.Values;

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            var eligible = await ObserveAsync(cancellationToken).ConfigureAwait(false);
            if (eligible.Count == 0)
            {
                return;
            }

            _ourNames.UnionWith(eligible.SelectMany(NamesOf));
            var perInstance = Policy.Strategy == OnboardingStrategy.PerInstance;
            var connected = eligible.Where(id => Record(id).Stage == OnboardingStage.Connected).ToList();

            // One paged listing per resource group and pass tells which machines exist, so a machine is read on its own
            // only when the listing shows its name. The per-instance strategy reads each machine before its PUT instead.
            var listed = perInstance ? connected : eligible;
            await ListGroupsAsync(listed.Select(GroupOf).Distinct(StringComparer.OrdinalIgnoreCase), cancellationToken).ConfigureAwait(false);

            await VerifyConnectedAsync(connected, cancellationToken).ConfigureAwait(false);
            var rest = eligible.Where(id => !_reports.ContainsKey(id) && Record(id).Stage != OnboardingStage.Connected).ToList();
            if (perInstance)
            {
                await RunPerInstanceAsync(rest, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await RunPipelineAsync(rest, cancellationToken).ConfigureAwait(false);
            }

            foreach (var id in eligible.Where(id => !_reports.ContainsKey(id)))
            {
                // Every eligible instance ends the pass with a verdict; reaching here means a step gave up without saying why.
                await FailAsync(id, OnboardingStep.Discover, "the pass ended before this instance finished; the next pass resumes it", cancellationToken).ConfigureAwait(false);
            }
        }

        private string GroupOf(string id) => Record(id).ResourceGroup ?? _placements[id].ResourceGroup!;

        /// <summary>The window is shared by every account and region, so its entries name the scope as well as the instance.</summary>
        private string WindowKey(string id) => $"{scope.AccountId}/{scope.Region}/{id}";

        private string NameOf(string id) => Record(id).MachineName ?? _placements[id].MachineName!;

        /// <summary>
        /// The names this pass may PUT for the instance: its recorded name, and the name its placement gives it now, which
        /// replaces the recorded one when the machine is still to be made (after the template or a tag changed, say).
        /// </summary>
        private IEnumerable<string> NamesOf(string id)
        {
            if (Record(id).MachineName is { } recorded)
            {
                yield return recorded;
            }

            if (_placements[id].MachineName is { } placed)
            {
                yield return placed;
            }
        }

        /// <summary>Lists each group; a group that cannot be listed is left out and its reason kept, so its machines are read one by one instead.</summary>
        private async Task ListGroupsAsync(IEnumerable<string> groups, CancellationToken cancellationToken)
        {
            foreach (var group in groups)
            {
                try
                {
                    var machines = await owner.WithArmSlotAsync(
                        ct => owner.Retry.ExecuteAsync(c => owner.Arm.ListAsync(Policy.SubscriptionId, group, c), ct),
                        cancellationToken).ConfigureAwait(false);
                    _listing[group] = machines.Where(m => _ourNames.Contains(m.Name)).ToDictionary(m => m.Name, StringComparer.OrdinalIgnoreCase);
                    _listingErrors.Remove(group);
                }
                catch (CloudException error)
                {
                    _listing.Remove(group);
                    _listingErrors[group] = error.Message;
                }
            }
        }

        private List<string> InStages(IEnumerable<string> ids, params OnboardingStage[] stages) =>
            ids.Where(id => !_reports.ContainsKey(id) && stages.Contains(Record(id).Stage)).ToList();

        private InstanceRecord Record(string instanceId)
        {
            lock (_recordsLock)
            {
                return _records[instanceId];
            }
        }

        /// <summary>Lists the scope and settles every instance that is not eligible; returns the eligible ones.</summary>
        private async Task<List<string>> ObserveAsync(CancellationToken cancellationToken)
        {
            _verdictsBeforeListed = [];
            var (instances, nodes) = await owner.Inventory.ListScopeAsync(scope, owner.Retry, withNodes: true, cancellationToken).ConfigureAwait(false);
            var stored = await Store.ListAsync(scope, cancellationToken).ConfigureAwait(false);

            foreach (var record in stored)
            {
                _records[record.Key.InstanceId] = record;
            }

            var nodesById = nodes.GroupBy(n => n.InstanceId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            var eligible = new List<string>();
            var settled = new List<InstanceRecord>();

            foreach (var instance in instances)
            {
                var id = instance.Key.InstanceId;
                _instances[id] = instance;
                var record = _records.TryGetValue(id, out var existing)
                    ? existing with { Platform = instance.Platform }
                    : new InstanceRecord { Key = instance.Key, Platform = instance.Platform, Stage = OnboardingStage.Discovered, UpdatedAt = owner.Time.GetUtcNow() };
                _records[id] = record;

                var skip = WhyNotEligible(instance, nodesById.GetValueOrDefault(id));
                if (skip is not null)
                {
                    settled.Add(Settle(record, Outcome.Skipped, skip, null));
                    continue;
                }

                var placement = Policy.Placement.Place(instance);
                if (placement.Problem is not null)
                {
                    settled.Add(Settle(record, Outcome.Failed, placement.Problem, OnboardingStep.Discover));
                    continue;
                }

                _placements[id] = placement;
                if (RecentlySettledByProbe(record))
                {
                    // The probe found no agent, or an agent connected by someone else: asking again every pass would
                    // send a Run Command each time for nothing, so the verdict stands until the recheck interval passes.
                    Report(record, record.Outcome!.Value, record.Reason ?? "", null);
                    continue;
                }

                eligible.Add(id);
            }

            if (settled.Count > 0)
            {
                await Store.SaveAllAsync(settled, cancellationToken).ConfigureAwait(false);
            }

            var known = stored.Select(s => s.Key.InstanceId).ToHashSet(StringComparer.Ordinal);
            var newcomers = eligible.Where(id => !known.Contains(id)).Select(Record).ToList();
            if (newcomers.Count > 0)
            {
                await Store.SaveAllAsync(newcomers, cancellationToken).ConfigureAwait(false);
            }

            observer.ScopeListed(scope, instances.Count, eligible.Count);
            Log.ScopeListed(Logger, scope.AccountId, scope.Region, instances.Count, nodes.Count, eligible.Count);
            foreach (var report in _verdictsBeforeListed)
            {
                observer.InstanceFinished(report);
            }

            _verdictsBeforeListed = null;
            return eligible;
        }

        private bool RecentlySettledByProbe(InstanceRecord record) =>
            record.Stage == OnboardingStage.Discovered
            && record.Outcome is Outcome.Skipped or Outcome.AlreadyConnected
            && owner.Time.GetUtcNow() - record.UpdatedAt < Policy.ProbeRecheckInterval;

        private string? WhyNotEligible(Ec2Instance instance, SsmNode? node)
        {
            if (!instance.IsRunning)
            {
                return $"the instance is {instance.State}";
            }

            if (node is null)
            {
                return "not managed by SSM: no SSM agent has registered this instance (check the SSM agent and the instance profile)";
            }

            if (!node.IsOnline)
            {
                return $"the SSM agent is {node.PingStatus}, so Run Command cannot reach the instance";
            }

            if (Policy.TagFilterKey is { } key)
            {
                if (!instance.Tags.TryGetValue(key, out var value))
                {
                    return $"filtered out: the instance has no tag '{key}'";
                }

                if (Policy.TagFilterValue is { } wanted && !string.Equals(value, wanted, StringComparison.Ordinal))
                {
                    return $"filtered out: tag '{key}' is not '{wanted}'";
                }
            }

            return null;
        }

        private InstanceRecord Settle(InstanceRecord record, Outcome outcome, string reason, OnboardingStep? failedStep)
        {
            var settled = record with
            {
                Outcome = outcome,
                Reason = reason,
                FailedStep = failedStep?.Name(),
                UpdatedAt = owner.Time.GetUtcNow(),
            };
            lock (_recordsLock)
            {
                _records[record.Key.InstanceId] = settled;
            }

            Report(settled, outcome, reason, failedStep);
            return settled;
        }

        private void Report(InstanceRecord record, Outcome outcome, string reason, OnboardingStep? failedStep)
        {
            var report = new InstanceReport(
                scope.AccountId, scope.Region, record.Key.InstanceId, record.Platform, outcome, reason, record.ResourceId, failedStep?.Name());
            _reports[record.Key.InstanceId] = report;
            if (_verdictsBeforeListed is { } held)
            {
                held.Add(report);
            }
            else
            {
                observer.InstanceFinished(report);
            }

            Log.InstanceSettled(Logger, scope.AccountId, scope.Region, record.Key.InstanceId, outcome, reason);
        }

        private async Task SaveAsync(InstanceRecord record, CancellationToken cancellationToken)
        {
            var stamped = record with { UpdatedAt = owner.Time.GetUtcNow() };
            // Saving must not be cut in half by cancellation: the record is the only memory of a side effect already made.
            await Store.SaveAsync(stamped, CancellationToken.None).ConfigureAwait(false);
            lock (_recordsLock)
            {
                _records[record.Key.InstanceId] = stamped;
            }

            cancellationToken.ThrowIfCancellationRequested();
        }

        private async Task SaveAllAsync(IReadOnlyCollection<InstanceRecord> records, CancellationToken cancellationToken)
        {
            var now = owner.Time.GetUtcNow();
            var stamped = records.Select(r => r with { UpdatedAt = now }).ToList();
            await Store.SaveAllAsync(stamped, CancellationToken.None).ConfigureAwait(false);
            lock (_recordsLock)
            {
                foreach (var record in stamped)
                {
                    _records[record.Key.InstanceId] = record;
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
        }

        private async Task SucceedAsync(string instanceId, Outcome outcome, string reason, Func<InstanceRecord, InstanceRecord> change, CancellationToken cancellationToken)
        {
            var record = change(Record(instanceId)) with { Outcome = outcome, Reason = reason, FailedStep = null, Attempts = 0 };
            await SaveAsync(record, cancellationToken).ConfigureAwait(false);
            Report(record, outcome, reason, null);
        }

        /// <summary>
        /// Settles many instances the same way with one save per thousand: a listing confirms thousands of machines at
        /// once, and awaiting a commit for each in turn made confirming 20,000 take half a minute.
        /// </summary>
        private async Task SucceedAllAsync(IReadOnlyList<(string Id, Func<InstanceRecord, InstanceRecord> Change)> instances, Outcome outcome, string reason, CancellationToken cancellationToken)
        {
            foreach (var chunk in instances.Chunk(SettleChunk))
            {
                var records = chunk.Select(i => i.Change(Record(i.Id)) with { Outcome = outcome, Reason = reason, FailedStep = null, Attempts = 0 }).ToList();
                await SaveAllAsync(records, cancellationToken).ConfigureAwait(false);
                foreach (var record in records)
                {
                    Report(Record(record.Key.InstanceId), outcome, reason, null);
                }
            }
        }

        private Task FailAsync(string instanceId, OnboardingStep step, string reason, CancellationToken cancellationToken) =>
            FailAsync(instanceId, step, reason, r => r, cancellationToken);

        private async Task FailAsync(string instanceId, OnboardingStep step, string reason, Func<InstanceRecord, InstanceRecord> change, CancellationToken cancellationToken)
        {
            var record = change(Record(instanceId));
            record = record with { Outcome = Outcome.Failed, Reason = reason, FailedStep = step.Name(), Attempts = record.Attempts + 1 };
            await SaveAsync(record, cancellationToken).ConfigureAwait(false);
            Report(record, Outcome.Failed, reason, step);
        }

        // ---- Already connected earlier: confirm through the listing only ----

        private async Task VerifyConnectedAsync(List<string> ids, CancellationToken cancellationToken)
        {
            if (ids.Count == 0)
            {
                return;
            }

            observer.StepStarted(scope, OnboardingStep.Verify, ids.Count);
            var stillConnected = new List<(string, Func<InstanceRecord, InstanceRecord>)>();
            foreach (var id in ids)
            {
                var record = Record(id);
                var group = GroupOf(id);
                var name = NameOf(id);
                if (!_listing.TryGetValue(group, out var machines))
                {
                    await FailAsync(id, OnboardingStep.Verify, $"Azure Resource Manager: {_listingErrors.GetValueOrDefault(group)}", cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (!machines.TryGetValue(name, out var machine))
                {
                    // The machine was deleted in Azure: onboard again from the start.
                    Log.MachineVanished(Logger, scope.AccountId, scope.Region, id, group, name);
                    await SaveAsync(record with { Stage = OnboardingStage.Discovered, ResourceId = null, CommandId = null, Outcome = null }, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (machine.IsConnected)
                {
                    stillConnected.Add((id, r => r with { ResourceId = machine.Id }));
                }
                else
                {
                    await FailAsync(id, OnboardingStep.Verify, $"Azure reports the machine as {machine.Status ?? "not connected"}: the agent is not sending heartbeats", cancellationToken).ConfigureAwait(false);
                }
            }

            await SucceedAllAsync(stillConnected, Outcome.AlreadyConnected, "connected to Azure Arc (onboarded earlier by Arcboard)", cancellationToken).ConfigureAwait(false);
        }

        // ---- The batched strategy: a streaming pipeline ----

        /// <summary>
        /// genkey batches run side by side; as each instance's key arrives it flows into machine creation, created machines
        /// gather into connect batches (full at 50 per platform, or sent once creation has gone quiet), and every connected
        /// machine is confirmed at the end from one listing per resource group. A slow batch holds up only its own instances.
        /// </summary>
        private async Task RunPipelineAsync(List<string> ids, CancellationToken cancellationToken)
        {
            var creates = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
            var toVerify = new ConcurrentBag<string>();
            var connects = new ConnectBatcher(this, creates.Reader, (batch, platform, ct) => SendAndWaitAsync(
                batch,
                platform,
                OnboardingStep.Connect,
                OnboardingStage.ConnectRequesting,
                OnboardingStage.ConnectRequested,
                ConnectScript,
                (id, invocation, c) => OnConnectedAsync(id, invocation, toVerify, c),
                perInstance: false,
                ct), cancellationToken);

            foreach (var id in InStages(ids, OnboardingStage.KeyReceived, OnboardingStage.MachineCreating))
            {
                creates.Writer.TryWrite(id);
            }

            foreach (var id in ids.Where(id => Record(id).Stage is OnboardingStage.MachineCreated or OnboardingStage.ConnectRequesting
                         || (Record(id).Stage == OnboardingStage.ConnectRequested && Record(id).CommandId is null)))
            {
                connects.Add(id);
            }

            var genkeyIds = InStages(ids, OnboardingStage.Discovered, OnboardingStage.KeyRequesting, OnboardingStage.KeyRequested);
            if (genkeyIds.Count > 0)
            {
                observer.StepStarted(scope, OnboardingStep.Genkey, genkeyIds.Count);
            }

            // Creation that dies (the store failing, say) must stop genkey too: batches waiting for the window would
            // otherwise wait for machines nobody is left to create.
            using var creationFailed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var genkeys = GenkeyThenCloseAsync(genkeyIds, creates.Writer, creationFailed.Token);
            var creators = Task.WhenAll(Enumerable.Range(0, Math.Max(1, Policy.MaxParallelArmCalls)).Select(async _ =>
            {
                try
                {
                    await CreateWorkerAsync(creates.Reader, connects, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    await creationFailed.CancelAsync().ConfigureAwait(false);
                    throw;
                }
            }));
            var resumedConnects = RunStepAsync(
                ids.Where(id => Record(id).Stage == OnboardingStage.ConnectRequested && Record(id).CommandId is not null).ToList(),
                OnboardingStep.Connect,
                OnboardingStage.ConnectRequesting,
                OnboardingStage.ConnectRequested,
                ConnectScript,
                (id, invocation, ct) => OnConnectedAsync(id, invocation, toVerify, ct),
                perInstance: false,
                cancellationToken,
                lost: connects.Add);

            try
            {
                // When creation fails it cancels genkey; WhenAll reports a fault over a cancellation, so creation's error is
                // the one thrown, and listing it first keeps it so when the others faulted too.
                await Task.WhenAll(creators, genkeys, resumedConnects).ConfigureAwait(false);
            }
            finally
            {
                await connects.CompleteAsync().ConfigureAwait(false);
            }

            await VerifyAfterConnectAsync(toVerify.ToList(), cancellationToken).ConfigureAwait(false);
        }

        private async Task GenkeyThenCloseAsync(List<string> ids, ChannelWriter<string> creates, CancellationToken cancellationToken)
        {
            try
            {
                await RunStepAsync(
                    ids,
                    OnboardingStep.Genkey,
                    OnboardingStage.KeyRequesting,
                    OnboardingStage.KeyRequested,
                    GenkeyScript,
                    async (id, invocation, ct) =>
                    {
                        if (await OnProbedAsync(id, invocation, ct).ConfigureAwait(false))
                        {
                            _awaitingCreation[id] = 0;
                            creates.TryWrite(id);
                        }
                    },
                    perInstance: false,
                    cancellationToken,
                    admission: keysAhead).ConfigureAwait(false);
            }
            finally
            {
                creates.TryComplete();
            }
        }

        private int _creating;

        private bool CreationIdle(ChannelReader<string> creates) => Volatile.Read(ref _creating) == 0 && creates.Count == 0;

        private async Task CreateWorkerAsync(ChannelReader<string> creates, ConnectBatcher connects, CancellationToken cancellationToken)
        {
            while (await creates.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                Interlocked.Increment(ref _creating);
                try
                {
                    if (!creates.TryRead(out var id))
                    {
                        continue;
                    }

                    try
                    {
                        if (await CreateMachineSafelyAsync(id, cancellationToken).ConfigureAwait(false))
                        {
                            connects.Add(id);
                        }
                    }
                    finally
                    {
                        _awaitingCreation.TryRemove(id, out _);
                        keysAhead.Release(WindowKey(id));
                    }
                }
                finally
                {
                    Interlocked.Decrement(ref _creating);
                }
            }
        }

        /// <summary>
        /// Gathers created machines into connect commands of up to 50 per platform. A batch goes when it is full, when
        /// creation has had nothing in hand for <see cref="OnboardingPolicy.ConnectLinger"/> (so a trickle is not held
        /// back), after <see cref="OnboardingPolicy.MaxConnectLinger"/> at the most, and when the pass has nothing more to
        /// add. Keys arrive 50 of a platform at a time, so at the pace ARM writes allow the batches fill up.
        /// </summary>
        private sealed class ConnectBatcher(
            ScopePass pass,
            ChannelReader<string> creates,
            Func<string[], Platform, CancellationToken, Task> send,
            CancellationToken cancellationToken)
        {
            private readonly Lock _lock = new();
            private readonly Dictionary<Platform, List<string>> _pending = [];
            private readonly List<Task> _running = [];
            private DateTimeOffset _oldest;
            private bool _timerArmed;

            public void Add(string id)
            {
                lock (_lock)
                {
                    var platform = pass.Record(id).Platform;
                    if (!_pending.TryGetValue(platform, out var list))
                    {
                        list = [];
                        _pending[platform] = list;
                    }

                    if (_pending.Values.All(l => l.Count == 0))
                    {
                        _oldest = pass.Time.GetUtcNow();
                    }

                    list.Add(id);
                    if (list.Count >= IRunCommand.MaxInstancesPerCommand)
                    {
                        Flush(platform);
                    }
                    else if (!_timerArmed)
                    {
                        _timerArmed = true;
                        _running.Add(LingerAsync());
                    }
                }
            }

            private async Task LingerAsync()
            {
                while (true)
                {
                    await Task.Delay(pass.Policy.PollInterval, pass.Time, cancellationToken).ConfigureAwait(false);
                    lock (_lock)
                    {
                        if (_pending.Values.All(l => l.Count == 0))
                        {
                            _timerArmed = false;
                            return;
                        }

                        var waited = pass.Time.GetUtcNow() - _oldest;
                        if ((pass.CreationIdle(creates) && waited >= pass.Policy.ConnectLinger) || waited >= pass.Policy.MaxConnectLinger)
                        {
                            foreach (var platform in _pending.Keys.ToList())
                            {
                                Flush(platform);
                            }

                            _timerArmed = false;
                            return;
                        }
                    }
                }
            }

            private void Flush(Platform platform)
            {
                var list = _pending[platform];
                if (list.Count == 0)
                {
                    return;
                }

                var batch = list.ToArray();
                list.Clear();
                _oldest = pass.Time.GetUtcNow();
                // Sent outside the caller's lock and thread: the command's whole wait runs in that task.
                _running.Add(Task.Run(() => send(batch, platform, cancellationToken), CancellationToken.None));
            }

            /// <summary>Nothing more will be added: sends what is pending and waits for every connect command.</summary>
            public async Task CompleteAsync()
            {
                List<Task> running;
                lock (_lock)
                {
                    foreach (var platform in _pending.Keys.ToList())
                    {
                        Flush(platform);
                    }

                    running = [.. _running];
                }

                try
                {
                    await Task.WhenAll(running).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // Only the linger timers end this way, when the pass is over.
                }
            }
        }

        // ---- The per-instance strategy: each instance alone through the three steps ----

        /// <summary>
        /// The straightforward flow, kept as a baseline to measure against: every instance on its own, one SendCommand per
        /// instance and step, its result read with GetCommandInvocation every poll interval, its machine read before the PUT
        /// and again until Connected. Same scripts, stages, store and pacing as the pipeline.
        /// </summary>
        private async Task RunPerInstanceAsync(List<string> ids, CancellationToken cancellationToken)
        {
            if (ids.Count == 0)
            {
                return;
            }

            observer.StepStarted(scope, OnboardingStep.Genkey, ids.Count);
            // Each instance reaches connect on its own; the step is announced when the first one does, not at the start.
            var connectAnnounced = 0;
            await Parallel.ForEachAsync(
                ids,
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Policy.MaxParallelInstances), CancellationToken = cancellationToken },
                async (id, ct) =>
                {
                    if (Record(id).Stage is OnboardingStage.Discovered or OnboardingStage.KeyRequesting or OnboardingStage.KeyRequested)
                    {
                        var keyed = false;
                        await RunStepAsync([id], OnboardingStep.Genkey, OnboardingStage.KeyRequesting, OnboardingStage.KeyRequested, GenkeyScript,
                            async (i, invocation, c) => keyed = await OnProbedAsync(i, invocation, c).ConfigureAwait(false), perInstance: true, ct).ConfigureAwait(false);
                        if (!keyed)
                        {
                            return;
                        }
                    }

                    if (Record(id).Stage is OnboardingStage.KeyReceived or OnboardingStage.MachineCreating
                        && !await CreateMachineSafelyAsync(id, ct).ConfigureAwait(false))
                    {
                        return;
                    }

                    if (Interlocked.Exchange(ref connectAnnounced, 1) == 0)
                    {
                        observer.StepStarted(scope, OnboardingStep.Connect, ids.Count);
                    }

                    var toVerify = new ConcurrentBag<string>();
                    await RunStepAsync([id], OnboardingStep.Connect, OnboardingStage.ConnectRequesting, OnboardingStage.ConnectRequested, ConnectScript,
                        (i, invocation, c) => OnConnectedAsync(i, invocation, toVerify, c), perInstance: true, ct).ConfigureAwait(false);
                    await VerifyAsync([.. toVerify], ct).ConfigureAwait(false);
                }).ConfigureAwait(false);
        }

        // ---- Step 1: probe the agent and have it make a key ----

        private static string GenkeyScript(Platform platform, IReadOnlyList<string> batch) => OnboardingScripts.ProbeAndGenerateKey(platform);

        /// <summary>Settles one probe result; true when the instance now holds a key of its own and can go on to machine creation.</summary>
        private async Task<bool> OnProbedAsync(string id, CommandInvocation invocation, CancellationToken cancellationToken)
        {
            switch (ScriptResults.ReadProbe(invocation))
            {
                case ProbeResult.AgentAbsent:
                    await SucceedAsync(id, Outcome.Skipped, "the Azure Connected Machine agent is not installed on the instance", r => r with { Stage = OnboardingStage.Discovered, CommandId = null }, cancellationToken).ConfigureAwait(false);
                    return false;
                case ProbeResult.AlreadyConnected connected:
                    await SucceedAsync(
                        id,
                        Outcome.AlreadyConnected,
                        connected.ResourceId is null ? "the agent on the instance is already connected" : $"the agent on the instance is already connected as {connected.ResourceId}",
                        r => r with { Stage = OnboardingStage.Discovered, CommandId = null, ResourceId = r.CreatedByArcboard ? r.ResourceId : connected.ResourceId },
                        cancellationToken).ConfigureAwait(false);
                    return false;
                case ProbeResult.Key key:
                    var holder = await owner.KeyHolderAsync(Record(id).Key, key.PublicKey, cancellationToken).ConfigureAwait(false);
                    if (holder is not null)
                    {
                        // Two instances printing one key means a cloned disk or a replayed output: whoever connects with it
                        // could act as the other machine, so the key is refused and no machine is made for it.
                        await FailAsync(
                            id,
                            OnboardingStep.Genkey,
                            $"the instance printed a public key (SHA-256 {key.Fingerprint}) already registered for instance {holder}; refusing it (was the instance cloned from another's disk?). Delete the key file on the instance or re-image it, then sync again",
                            r => r with { Stage = OnboardingStage.Discovered, CommandId = null },
                            cancellationToken).ConfigureAwait(false);
                        return false;
                    }

                    await SaveAsync(Record(id) with { Stage = OnboardingStage.KeyReceived, PublicKey = key.PublicKey, CommandId = null, Attempts = 0 }, cancellationToken).ConfigureAwait(false);
                    Log.KeyReceived(Logger, scope.AccountId, scope.Region, id, key.Fingerprint);
                    observer.StepProgress(scope, OnboardingStep.Genkey);
                    return true;
                case ProbeResult.Failed failed:
                    await FailAsync(id, OnboardingStep.Genkey, failed.Reason, r => r with { Stage = OnboardingStage.Discovered, CommandId = null }, cancellationToken).ConfigureAwait(false);
                    return false;
                default:
                    return false;
            }
        }

        // ---- Step 2: create the machine in Azure with the instance's public key ----

        /// <summary>Creates the machine; true when it exists with this instance's key. Failures settle the instance.</summary>
        private async Task<bool> CreateMachineSafelyAsync(string id, CancellationToken cancellationToken)
        {
            try
            {
                await CreateMachineAsync(id, cancellationToken).ConfigureAwait(false);
            }
            catch (CloudException error)
            {
                await FailAsync(id, OnboardingStep.CreateMachine, $"Azure Resource Manager: {error.Message}", cancellationToken).ConfigureAwait(false);
                return false;
            }

            return !_reports.ContainsKey(id) && Record(id).Stage == OnboardingStage.MachineCreated;
        }

        private async Task CreateMachineAsync(string id, CancellationToken cancellationToken)
        {
            var placement = _placements[id];
            var record = Record(id);
            await owner.EnsureResourceGroupAsync(placement.ResourceGroup!, placement.Location!, cancellationToken).ConfigureAwait(false);

            if (record.Stage == OnboardingStage.KeyReceived)
            {
                // The vmId is recorded before the PUT that uses it, so a crash after the PUT finds the machine it made.
                record = record with
                {
                    Stage = OnboardingStage.MachineCreating,
                    VmId = record.VmId ?? Guid.NewGuid(),
                    SubscriptionId = Policy.SubscriptionId,
                    ResourceGroup = placement.ResourceGroup,
                    MachineName = placement.MachineName,
                    Location = placement.Location,
                };
                await SaveAsync(record, cancellationToken).ConfigureAwait(false);
            }

            var machineRef = new MachineRef(Policy.SubscriptionId, record.ResourceGroup!, record.MachineName!);
            var claimedBy = owner.ClaimName(machineRef, record.Key);
            if (claimedBy is not null)
            {
                await FailAsync(
                    id,
                    OnboardingStep.CreateMachine,
                    $"instance {claimedBy} is also placed at machine '{machineRef.Name}' in resource group '{machineRef.ResourceGroup}'; machine names must be unique (add {{instanceId}} to azure.machineName)",
                    r => r with { Stage = OnboardingStage.KeyReceived },
                    cancellationToken).ConfigureAwait(false);
                return;
            }

            // The listing taken at the start of this pass shows every machine that existed then; a name it does not show
            // needs no read before the PUT. Names it shows (and every name when there is no listing) are read fresh.
            var mustRead = Policy.Strategy == OnboardingStrategy.PerInstance || !_listing.TryGetValue(machineRef.ResourceGroup, out var listed) || listed.ContainsKey(machineRef.Name);
            var existing = mustRead
                ? await owner.WithArmSlotAsync(ct => owner.Retry.ExecuteAsync(c => owner.Arm.GetAsync(machineRef, c), ct), cancellationToken).ConfigureAwait(false)
                : null;
            if (existing is not null)
            {
                if (!OnboardingPolicy.IsManagedBy(existing.Tags, record.Key))
                {
                    await FailAsync(
                        id,
                        OnboardingStep.CreateMachine,
                        $"a machine named '{machineRef.Name}' already exists in resource group '{machineRef.ResourceGroup}' and was not created by Arcboard for this instance; Arcboard never overwrites it (rename with azure.machineName, or remove that machine)",
                        r => r with { Stage = OnboardingStage.KeyReceived },
                        cancellationToken).ConfigureAwait(false);
                    return;
                }

                if (existing.VmId is { } existingVmId && existingVmId != record.VmId)
                {
                    // Ours, made by an earlier run whose vmId the store lost: a vmId cannot change, so keep the machine's.
                    record = record with { VmId = existingVmId };
                    await SaveAsync(record, cancellationToken).ConfigureAwait(false);
                }

                if (string.Equals(existing.ClientPublicKey, record.PublicKey, StringComparison.Ordinal))
                {
                    await SaveAsync(record with { Stage = OnboardingStage.MachineCreated, ResourceId = existing.Id, CreatedByArcboard = true }, cancellationToken).ConfigureAwait(false);
                    observer.StepProgress(scope, OnboardingStep.CreateMachine);
                    return;
                }
            }

            var spec = new MachineSpec(record.Location!, record.PublicKey!, record.VmId!.Value, record.Platform, Policy.MachineTags(record.Key));
            var machine = await owner.WithArmSlotAsync(ct => owner.Retry.ExecuteAsync(c => owner.Arm.PutAsync(machineRef, spec, c), ct), cancellationToken).ConfigureAwait(false);
            await SaveAsync(Record(id) with { Stage = OnboardingStage.MachineCreated, ResourceId = machine.Id, CreatedByArcboard = true, Attempts = 0 }, cancellationToken).ConfigureAwait(false);
            Log.MachineCreated(Logger, scope.AccountId, scope.Region, id, machine.Id);
            observer.StepProgress(scope, OnboardingStep.CreateMachine);
        }

        // ---- Step 3: connect the agent with its saved key, then confirm through ARM ----

        private string ConnectScript(Platform platform, IReadOnlyList<string> batch) =>
            OnboardingScripts.Connect(platform, batch.Select(ConnectParametersFor).ToList());

        private async Task OnConnectedAsync(string id, CommandInvocation invocation, ConcurrentBag<string> toVerify, CancellationToken cancellationToken)
        {
            var result = ScriptResults.ReadConnect(invocation);
            if (result.Verdict is ConnectVerdict.Connected or ConnectVerdict.AlreadyConnected)
            {
                toVerify.Add(id);
                observer.StepProgress(scope, OnboardingStep.Connect);
            }
            else if (result.NeedsNewKey)
            {
                // The saved key is gone or does not match the registered one: start again from genkey; the machine is reused.
                await FailAsync(id, OnboardingStep.Connect, $"{result.Reason}; a new key will be made on the next pass", r => r with { Stage = OnboardingStage.Discovered, CommandId = null }, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await FailAsync(id, OnboardingStep.Connect, result.Reason ?? "azcmagent connect failed", r => r with { Stage = OnboardingStage.MachineCreated, CommandId = null }, cancellationToken).ConfigureAwait(false);
            }
        }

        private ConnectParameters ConnectParametersFor(string id)
        {
            var record = Record(id);
            return new ConnectParameters(
                id,
                record.ResourceGroup!,
                Policy.SubscriptionId,
                Policy.TenantId,
                record.Location!,
                record.MachineName!,
                record.VmId!.Value,
                Policy.Cloud,
                Guid.NewGuid());
        }

        /// <summary>
        /// Confirms the machines whose agents reported success from one listing per resource group; only the ones the
        /// listing does not yet show Connected are read on their own, until <see cref="OnboardingPolicy.VerifyTimeout"/>.
        /// </summary>
        private async Task VerifyAfterConnectAsync(List<string> ids, CancellationToken cancellationToken)
        {
            if (ids.Count == 0)
            {
                return;
            }

            observer.StepStarted(scope, OnboardingStep.Verify, ids.Count);
            var groups = ids.Select(GroupOf).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            var notYet = new List<string>();
            var connected = new List<(string, Func<InstanceRecord, InstanceRecord>)>();
            // A group that cannot be listed leaves its machines to be read one by one.
            await ListGroupsAsync(groups, cancellationToken).ConfigureAwait(false);
            foreach (var id in ids)
            {
                if (_listing.TryGetValue(GroupOf(id), out var machines) && machines.TryGetValue(NameOf(id), out var machine) && machine.IsConnected)
                {
                    connected.Add((id, r => r with { Stage = OnboardingStage.Connected, CommandId = null, ResourceId = machine.Id }));
                }
                else
                {
                    notYet.Add(id);
                }
            }

            await SucceedAllAsync(connected, Outcome.Onboarded, OnboardedReason, cancellationToken).ConfigureAwait(false);
            await VerifyAsync(notYet, cancellationToken).ConfigureAwait(false);
        }

        private async Task VerifyAsync(List<string> ids, CancellationToken cancellationToken)
        {
            if (ids.Count == 0)
            {
                return;
            }

            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = Policy.MaxParallelArmCalls, CancellationToken = cancellationToken }, async (id, ct) =>
            {
                var record = Record(id);
                var machineRef = new MachineRef(record.SubscriptionId ?? Policy.SubscriptionId, record.ResourceGroup!, record.MachineName!);
                var deadline = owner.Time.GetUtcNow() + Policy.VerifyTimeout;
                try
                {
                    while (true)
                    {
                        var machine = await owner.WithArmSlotAsync(c => owner.Retry.ExecuteAsync(x => owner.Arm.GetAsync(machineRef, x), c), ct).ConfigureAwait(false);
                        if (machine is { IsConnected: true })
                        {
                            await SucceedAsync(id, Outcome.Onboarded, OnboardedReason, r => r with { Stage = OnboardingStage.Connected, CommandId = null, ResourceId = machine.Id }, ct).ConfigureAwait(false);
                            return;
                        }

                        if (owner.Time.GetUtcNow() >= deadline)
                        {
                            var seen = machine is null ? "the machine no longer exists" : $"its status is {machine.Status ?? "empty"}";
                            await FailAsync(id, OnboardingStep.Verify, $"the agent reported success but Azure does not show the machine Connected ({seen})", r => r with { Stage = OnboardingStage.MachineCreated, CommandId = null }, ct).ConfigureAwait(false);
                            return;
                        }

                        await Task.Delay(Policy.PollInterval, owner.Time, ct).ConfigureAwait(false);
                    }
                }
                catch (CloudException error)
                {
                    await FailAsync(id, OnboardingStep.Verify, $"Azure Resource Manager: {error.Message}", ct).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        }

        // ---- Run Command, shared by genkey and connect ----

        /// <summary>
        /// Brings every instance to a finished invocation of this step's command and hands each one to
        /// <paramref name="onFinished"/> as soon as it finishes. A command an earlier pass sent is read first (never
        /// re-sent while it may still run); new commands go in batches of 50 per platform (of 1 for the per-instance
        /// strategy), the intent recorded before and the command id after each send. Instances with no result by the
        /// deadline are settled as Failed and keep their command id for the next pass. Instances whose earlier command
        /// left no trace go to <paramref name="lost"/> when given, or are sent again here.
        /// </summary>
        private async Task RunStepAsync(
            IReadOnlyList<string> ids,
            OnboardingStep step,
            OnboardingStage requesting,
            OnboardingStage requested,
            Func<Platform, IReadOnlyList<string>, string> scriptFor,
            Func<string, CommandInvocation, CancellationToken, Task> onFinished,
            bool perInstance,
            CancellationToken cancellationToken,
            Action<string>? lost = null,
            AdmissionWindow? admission = null)
        {
            if (ids.Count == 0)
            {
                return;
            }

            var batchSize = perInstance ? 1 : IRunCommand.MaxInstancesPerCommand;
            var toSend = ids.Where(id => Record(id).Stage != requested || Record(id).CommandId is null).ToList();
            var waits = new List<Task>();
            var now = owner.Time.GetUtcNow();

            foreach (var group in ids.Where(id => Record(id).Stage == requested && Record(id).CommandId is not null).GroupBy(id => Record(id).CommandId!))
            {
                // An earlier pass sent this command: read what became of it before deciding anything else.
                var sentAt = Record(group.First()).CommandSentAt ?? now;
                var members = group.ToList();
                waits.Add(Task.Run(async () =>
                {
                    var resend = new List<string>();
                    await WaitAsync(group.Key, members, sentAt, step, onFinished, resend, perInstance, cancellationToken).ConfigureAwait(false);
                    if (lost is not null)
                    {
                        resend.ForEach(lost);
                    }
                    else
                    {
                        await SendAllAsync(resend, batchSize, step, requesting, requested, scriptFor, onFinished, perInstance, admission, cancellationToken).ConfigureAwait(false);
                    }
                }, cancellationToken));
            }

            waits.Add(SendAllAsync(toSend, batchSize, step, requesting, requested, scriptFor, onFinished, perInstance, admission, cancellationToken));
            await Task.WhenAll(waits).ConfigureAwait(false);
        }

        private Task SendAllAsync(
            List<string> ids,
            int batchSize,
            OnboardingStep step,
            OnboardingStage requesting,
            OnboardingStage requested,
            Func<Platform, IReadOnlyList<string>, string> scriptFor,
            Func<string, CommandInvocation, CancellationToken, Task> onFinished,
            bool perInstance,
            AdmissionWindow? admission,
            CancellationToken cancellationToken) =>
            Task.WhenAll(ids
                .GroupBy(id => Record(id).Platform)
                .SelectMany(platformGroup => platformGroup.Chunk(batchSize).Select(batch => admission is null
                    ? SendAndWaitAsync(batch, platformGroup.Key, step, requesting, requested, scriptFor, onFinished, perInstance, cancellationToken)
                    : AdmitThenSendAsync(batch, platformGroup.Key, step, requesting, requested, scriptFor, onFinished, admission, cancellationToken))));

        /// <summary>
        /// Sends the batch once it fits in the window; when its command is over, the instances that did not go on to
        /// machine creation leave the window, whatever ended their step.
        /// </summary>
        private async Task AdmitThenSendAsync(
            string[] batch,
            Platform platform,
            OnboardingStep step,
            OnboardingStage requesting,
            OnboardingStage requested,
            Func<Platform, IReadOnlyList<string>, string> scriptFor,
            Func<string, CommandInvocation, CancellationToken, Task> onFinished,
            AdmissionWindow admission,
            CancellationToken cancellationToken)
        {
            await admission.AdmitAsync(batch.Select(WindowKey).ToList(), cancellationToken).ConfigureAwait(false);
            try
            {
                await SendAndWaitAsync(batch, platform, step, requesting, requested, scriptFor, onFinished, perInstance: false, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                foreach (var id in batch.Where(id => !_awaitingCreation.ContainsKey(id)))
                {
                    admission.Release(WindowKey(id));
                }
            }
        }

        private async Task SendAndWaitAsync(
            string[] batch,
            Platform platform,
            OnboardingStep step,
            OnboardingStage requesting,
            OnboardingStage requested,
            Func<Platform, IReadOnlyList<string>, string> scriptFor,
            Func<string, CommandInvocation, CancellationToken, Task> onFinished,
            bool perInstance,
            CancellationToken cancellationToken)
        {
            string script;
            try
            {
                script = scriptFor(platform, batch);
            }
            catch (ArgumentException error)
            {
                foreach (var id in batch)
                {
                    await FailAsync(id, step, $"could not build the {step.Name()} script: {error.Message}", cancellationToken).ConfigureAwait(false);
                }

                return;
            }

            if (step == OnboardingStep.Connect && !perInstance)
            {
                observer.StepStarted(scope, step, batch.Length);
            }

            await SaveAllAsync(batch.Select(id => Record(id) with { Stage = requesting, CommandId = null }).ToList(), cancellationToken).ConfigureAwait(false);
            string commandId;
            try
            {
                commandId = await owner.Retry.ExecuteAsync(
                    ct => owner.RunCommand.SendAsync(scope, platform, batch, script, Policy.CommandTimeout, ct),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (CloudException error)
            {
                foreach (var id in batch)
                {
                    await FailAsync(id, step, $"Run Command could not send the {step.Name()} command: {error.Message}", cancellationToken).ConfigureAwait(false);
                }

                return;
            }

            var sentAt = owner.Time.GetUtcNow();
            await SaveAllAsync(batch.Select(id => Record(id) with { Stage = requested, CommandId = commandId, CommandSentAt = sentAt }).ToList(), cancellationToken).ConfigureAwait(false);
            Log.CommandSent(Logger, scope.AccountId, scope.Region, step.Name(), commandId, batch.Length);
            await WaitAsync(commandId, batch, sentAt, step, onFinished, resendIfLost: null, perInstance, cancellationToken).ConfigureAwait(false);
        }

        private async Task WaitAsync(
            string commandId,
            IReadOnlyCollection<string> ids,
            DateTimeOffset sentAt,
            OnboardingStep step,
            Func<string, CommandInvocation, CancellationToken, Task> onFinished,
            List<string>? resendIfLost,
            bool perInstance,
            CancellationToken cancellationToken)
        {
            var pending = new HashSet<string>(ids, StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var deadline = sentAt + Policy.CommandTimeout + Policy.DeliveryGrace;
            var firstLook = true;
            var pollInterval = Policy.PollInterval;
            var lastNews = sentAt;

            while (pending.Count > 0)
            {
                List<CommandInvocation> finished = [];
                try
                {
                    if (perInstance)
                    {
                        foreach (var id in pending)
                        {
                            var one = await owner.Retry.ExecuteAsync(ct => owner.RunCommand.GetInvocationAsync(scope, commandId, id, ct), cancellationToken).ConfigureAwait(false);
                            if (one is not null)
                            {
                                seen.Add(id);
                                if (one.IsFinished)
                                {
                                    finished.Add(one);
                                }
                            }
                        }
                    }
                    else
                    {
                        var invocations = await owner.Retry.ExecuteAsync(ct => owner.RunCommand.ListInvocationsAsync(scope, commandId, ct), cancellationToken).ConfigureAwait(false);
                        foreach (var invocation in invocations.Where(i => pending.Contains(i.InstanceId)))
                        {
                            seen.Add(invocation.InstanceId);
                            if (invocation.IsFinished)
                            {
                                finished.Add(await CompleteOutputAsync(commandId, invocation, cancellationToken).ConfigureAwait(false));
                            }
                        }
                    }
                }
                catch (CloudException error)
                {
                    foreach (var id in pending)
                    {
                        await FailAsync(id, step, $"could not read the result of command {commandId}: {error.Message}; the next pass reads it again", cancellationToken).ConfigureAwait(false);
                    }

                    return;
                }

                foreach (var invocation in finished)
                {
                    pending.Remove(invocation.InstanceId);
                    await onFinished(invocation.InstanceId, invocation, cancellationToken).ConfigureAwait(false);
                }

                var now = owner.Time.GetUtcNow();
                if (finished.Count > 0)
                {
                    lastNews = now;
                }

                // The per-instance baseline keeps the plain fixed interval it stands for.
                pollInterval = perInstance ? Policy.PollInterval : PollSchedule.Next(pollInterval, now - lastNews, Policy.PollInterval);

                if (firstLook && resendIfLost is not null && now >= deadline)
                {
                    // Sent by an earlier pass long enough ago that it can no longer be running: whatever left no trace is lost, send it again.
                    foreach (var id in pending.Where(id => !seen.Contains(id)).ToList())
                    {
                        pending.Remove(id);
                        resendIfLost.Add(id);
                    }
                }

                firstLook = false;
                if (pending.Count == 0)
                {
                    return;
                }

                if (now >= deadline)
                {
                    foreach (var id in pending)
                    {
                        await FailAsync(id, step, $"no result from command {commandId} after {(now - sentAt).TotalSeconds:0} s; the next pass reads it again", cancellationToken).ConfigureAwait(false);
                    }

                    return;
                }

                await Task.Delay(Min(pollInterval, deadline - now), owner.Time, cancellationToken).ConfigureAwait(false);
            }
        }

        private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

        /// <summary>ListCommandInvocations cuts output at 2,500 characters; when the markers may be past the cut, read the full invocation.</summary>
        private async Task<CommandInvocation> CompleteOutputAsync(string commandId, CommandInvocation invocation, CancellationToken cancellationToken)
        {
            const int listOutputLimit = 2400;
            if (invocation.StandardOutput.Length < listOutputLimit)
            {
                return invocation;
            }

            try
            {
                var full = await owner.Retry.ExecuteAsync(ct => owner.RunCommand.GetInvocationAsync(scope, commandId, invocation.InstanceId, ct), cancellationToken).ConfigureAwait(false);
                return full ?? invocation;
            }
            catch (CloudException)
            {
                return invocation;
            }
        }
    }

    private const string OnboardedReason = "onboarded: Azure reports the machine Connected";

    /// <summary>The most records settled in one save; the group commit's own transaction limit.</summary>
    private const int SettleChunk = 1000;

    // A nested type cannot see the primary constructor's parameters, so the pass reaches them through these.
    private OnboardingPolicy Policy => policy;
    private IStateStore Store => store;
    private ILogger Logger => logger;
    private TimeProvider Time => time;
    private IAwsInventory Inventory => inventory;
    private IRunCommand RunCommand => runCommand;
    private IArcMachines Arm => arm;
    private TransientRetry Retry => _retry;
}
