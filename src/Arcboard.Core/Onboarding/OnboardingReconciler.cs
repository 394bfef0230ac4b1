using System.Collections.Concurrent;
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

    public void Dispose() => _armCalls.Dispose();

    public async Task<SyncReport> SyncAsync(IReadOnlyList<AwsScope> scopes, ISyncObserver? observer, CancellationToken cancellationToken)
    {
        observer ??= NullSyncObserver.Instance;
        var reports = new ConcurrentBag<InstanceReport>();
        var errors = new ConcurrentBag<ScopeError>();
        _resourceGroups.Clear();

        await Parallel.ForEachAsync(
            scopes,
            new ParallelOptions { MaxDegreeOfParallelism = policy.MaxParallelScopes, CancellationToken = cancellationToken },
            async (scope, ct) =>
            {
                var pass = new ScopePass(this, scope, observer);
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

    private async Task<T> WithArmSlotAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        await _armCalls.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await call(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _armCalls.Release();
        }
    }

    private async Task WithArmSlotAsync(Func<CancellationToken, Task> call, CancellationToken cancellationToken) =>
        await WithArmSlotAsync(async ct =>
        {
            await call(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>The work on one account and region during one pass.</summary>
    private sealed class ScopePass(OnboardingReconciler owner, AwsScope scope, ISyncObserver observer)
    {
        private readonly Dictionary<string, InstanceRecord> _records = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Ec2Instance> _instances = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Placement> _placements = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, InstanceReport> _reports = new(StringComparer.Ordinal);
        private readonly Lock _recordsLock = new();

        private OnboardingPolicy Policy => owner.Policy;
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

            await VerifyConnectedAsync(eligible.Where(id => Record(id).Stage == OnboardingStage.Connected).ToList(), cancellationToken).ConfigureAwait(false);
            await ProbeAsync(InStages(eligible, OnboardingStage.Discovered, OnboardingStage.KeyRequesting, OnboardingStage.KeyRequested), cancellationToken).ConfigureAwait(false);
            await CreateMachinesAsync(InStages(eligible, OnboardingStage.KeyReceived, OnboardingStage.MachineCreating), cancellationToken).ConfigureAwait(false);
            await ConnectAsync(InStages(eligible, OnboardingStage.MachineCreated, OnboardingStage.ConnectRequesting, OnboardingStage.ConnectRequested), cancellationToken).ConfigureAwait(false);

            foreach (var id in eligible.Where(id => !_reports.ContainsKey(id)))
            {
                // Every eligible instance ends the pass with a verdict; reaching here means a step gave up without saying why.
                await FailAsync(id, OnboardingStep.Discover, "the pass ended before this instance finished; the next pass resumes it", cancellationToken).ConfigureAwait(false);
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
            var instances = await owner.Retry.ExecuteAsync(ct => owner.Inventory.ListInstancesAsync(scope, ct), cancellationToken).ConfigureAwait(false);
            var nodes = await owner.Retry.ExecuteAsync(ct => owner.Inventory.ListManagedNodesAsync(scope, ct), cancellationToken).ConfigureAwait(false);
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
            observer.InstanceFinished(report);
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

        private Task FailAsync(string instanceId, OnboardingStep step, string reason, CancellationToken cancellationToken) =>
            FailAsync(instanceId, step, reason, r => r, cancellationToken);

        private async Task FailAsync(string instanceId, OnboardingStep step, string reason, Func<InstanceRecord, InstanceRecord> change, CancellationToken cancellationToken)
        {
            var record = change(Record(instanceId));
            record = record with { Outcome = Outcome.Failed, Reason = reason, FailedStep = step.Name(), Attempts = record.Attempts + 1 };
            await SaveAsync(record, cancellationToken).ConfigureAwait(false);
            Report(record, Outcome.Failed, reason, step);
        }

        // ---- Already connected earlier: confirm through ARM reads only ----

        private async Task VerifyConnectedAsync(List<string> ids, CancellationToken cancellationToken)
        {
            if (ids.Count == 0)
            {
                return;
            }

            observer.StepStarted(scope, OnboardingStep.Verify, ids.Count);
            var machinesByGroup = new Dictionary<string, Dictionary<string, ArcMachine>>(StringComparer.OrdinalIgnoreCase);
            foreach (var group in ids.Select(id => Record(id).ResourceGroup ?? _placements[id].ResourceGroup!).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                var machines = await owner.WithArmSlotAsync(
                    ct => owner.Retry.ExecuteAsync(c => owner.Arm.ListAsync(Policy.SubscriptionId, group, c), ct),
                    cancellationToken).ConfigureAwait(false);
                machinesByGroup[group] = machines.ToDictionary(m => m.Name, StringComparer.OrdinalIgnoreCase);
            }

            foreach (var id in ids)
            {
                var record = Record(id);
                var group = record.ResourceGroup ?? _placements[id].ResourceGroup!;
                var name = record.MachineName ?? _placements[id].MachineName!;
                if (!machinesByGroup[group].TryGetValue(name, out var machine))
                {
                    // The machine was deleted in Azure: onboard again from the start.
                    Log.MachineVanished(Logger, scope.AccountId, scope.Region, id, group, name);
                    await SaveAsync(record with { Stage = OnboardingStage.Discovered, ResourceId = null, CommandId = null, Outcome = null }, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (machine.IsConnected)
                {
                    await SucceedAsync(id, Outcome.AlreadyConnected, "connected to Azure Arc (onboarded earlier by Arcboard)", r => r with { ResourceId = machine.Id }, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await FailAsync(id, OnboardingStep.Verify, $"Azure reports the machine as {machine.Status ?? "not connected"}: the agent is not sending heartbeats", cancellationToken).ConfigureAwait(false);
                }
            }
        }

        // ---- Step 1: probe the agent and have it make a key ----

        private async Task ProbeAsync(List<string> ids, CancellationToken cancellationToken)
        {
            if (ids.Count == 0)
            {
                return;
            }

            observer.StepStarted(scope, OnboardingStep.Genkey, ids.Count);
            var results = await RunStepAsync(
                ids,
                OnboardingStep.Genkey,
                OnboardingStage.KeyRequesting,
                OnboardingStage.KeyRequested,
                (platform, _) => OnboardingScripts.ProbeAndGenerateKey(platform),
                cancellationToken).ConfigureAwait(false);

            foreach (var (id, invocation) in results)
            {
                switch (ScriptResults.ReadProbe(invocation))
                {
                    case ProbeResult.AgentAbsent:
                        await SucceedAsync(id, Outcome.Skipped, "the Azure Connected Machine agent is not installed on the instance", r => r with { Stage = OnboardingStage.Discovered, CommandId = null }, cancellationToken).ConfigureAwait(false);
                        break;
                    case ProbeResult.AlreadyConnected connected:
                        await SucceedAsync(
                            id,
                            Outcome.AlreadyConnected,
                            connected.ResourceId is null ? "the agent on the instance is already connected" : $"the agent on the instance is already connected as {connected.ResourceId}",
                            r => r with { Stage = OnboardingStage.Discovered, CommandId = null, ResourceId = r.CreatedByArcboard ? r.ResourceId : connected.ResourceId },
                            cancellationToken).ConfigureAwait(false);
                        break;
                    case ProbeResult.Key key:
                        await SaveAsync(Record(id) with { Stage = OnboardingStage.KeyReceived, PublicKey = key.PublicKey, CommandId = null, Attempts = 0 }, cancellationToken).ConfigureAwait(false);
                        Log.KeyReceived(Logger, scope.AccountId, scope.Region, id, key.Fingerprint);
                        break;
                    case ProbeResult.Failed failed:
                        await FailAsync(id, OnboardingStep.Genkey, failed.Reason, r => r with { Stage = OnboardingStage.Discovered, CommandId = null }, cancellationToken).ConfigureAwait(false);
                        break;
                }
            }
        }

        // ---- Step 2: create the machine in Azure with the instance's public key ----

        private async Task CreateMachinesAsync(List<string> ids, CancellationToken cancellationToken)
        {
            if (ids.Count == 0)
            {
                return;
            }

            observer.StepStarted(scope, OnboardingStep.CreateMachine, ids.Count);
            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = Policy.MaxParallelArmCalls, CancellationToken = cancellationToken }, async (id, ct) =>
            {
                try
                {
                    await CreateMachineAsync(id, ct).ConfigureAwait(false);
                }
                catch (CloudException error)
                {
                    await FailAsync(id, OnboardingStep.CreateMachine, $"Azure Resource Manager: {error.Message}", ct).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
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
            var existing = await owner.WithArmSlotAsync(ct => owner.Retry.ExecuteAsync(c => owner.Arm.GetAsync(machineRef, c), ct), cancellationToken).ConfigureAwait(false);
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
                    return;
                }
            }

            var spec = new MachineSpec(record.Location!, record.PublicKey!, record.VmId!.Value, record.Platform, Policy.MachineTags(record.Key));
            var machine = await owner.WithArmSlotAsync(ct => owner.Retry.ExecuteAsync(c => owner.Arm.PutAsync(machineRef, spec, c), ct), cancellationToken).ConfigureAwait(false);
            await SaveAsync(Record(id) with { Stage = OnboardingStage.MachineCreated, ResourceId = machine.Id, CreatedByArcboard = true, Attempts = 0 }, cancellationToken).ConfigureAwait(false);
            Log.MachineCreated(Logger, scope.AccountId, scope.Region, id, machine.Id);
        }

        // ---- Step 3: connect the agent with its saved key, then confirm through ARM ----

        private async Task ConnectAsync(List<string> ids, CancellationToken cancellationToken)
        {
            if (ids.Count == 0)
            {
                return;
            }

            observer.StepStarted(scope, OnboardingStep.Connect, ids.Count);
            var results = await RunStepAsync(
                ids,
                OnboardingStep.Connect,
                OnboardingStage.ConnectRequesting,
                OnboardingStage.ConnectRequested,
                (platform, batch) => OnboardingScripts.Connect(platform, batch.Select(ConnectParametersFor).ToList()),
                cancellationToken).ConfigureAwait(false);

            var toVerify = new List<string>();
            foreach (var (id, invocation) in results)
            {
                var result = ScriptResults.ReadConnect(invocation);
                if (result.Verdict is ConnectVerdict.Connected or ConnectVerdict.AlreadyConnected)
                {
                    toVerify.Add(id);
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

            await VerifyAsync(toVerify, cancellationToken).ConfigureAwait(false);
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

        private async Task VerifyAsync(List<string> ids, CancellationToken cancellationToken)
        {
            if (ids.Count == 0)
            {
                return;
            }

            observer.StepStarted(scope, OnboardingStep.Verify, ids.Count);
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
                            await SucceedAsync(id, Outcome.Onboarded, "onboarded: Azure reports the machine Connected", r => r with { Stage = OnboardingStage.Connected, CommandId = null, ResourceId = machine.Id }, ct).ConfigureAwait(false);
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
        /// Brings every instance to a finished invocation of this step's command: first reads the result of a command
        /// an earlier pass sent (never re-sending while it may still run), then sends new commands in batches of 50 per
        /// platform, recording the intent before and the command id after each send, and waits for the results.
        /// Instances with no result by the deadline are settled as Failed and keep their command id for the next pass.
        /// </summary>
        private async Task<List<(string Id, CommandInvocation Invocation)>> RunStepAsync(
            List<string> ids,
            OnboardingStep step,
            OnboardingStage requesting,
            OnboardingStage requested,
            Func<Platform, IReadOnlyList<string>, string> scriptFor,
            CancellationToken cancellationToken)
        {
            var finished = new ConcurrentBag<(string, CommandInvocation)>();
            var waits = new List<Task>();
            var toSend = ids.Where(id => Record(id).Stage != requested || Record(id).CommandId is null).ToList();
            var now = owner.Time.GetUtcNow();

            foreach (var group in ids.Where(id => Record(id).Stage == requested && Record(id).CommandId is not null).GroupBy(id => Record(id).CommandId!))
            {
                // An earlier pass sent this command: read what became of it before deciding anything else.
                var sentAt = Record(group.First()).CommandSentAt ?? now;
                waits.Add(WaitAsync(group.Key, group.ToList(), sentAt, step, finished, resendIfLost: toSend, cancellationToken));
            }

            await Task.WhenAll(waits).ConfigureAwait(false);
            waits.Clear();

            foreach (var platformGroup in toSend.GroupBy(id => Record(id).Platform))
            {
                foreach (var batch in platformGroup.Chunk(IRunCommand.MaxInstancesPerCommand))
                {
                    waits.Add(SendAndWaitAsync(batch, platformGroup.Key, step, requesting, requested, scriptFor, finished, cancellationToken));
                }
            }

            await Task.WhenAll(waits).ConfigureAwait(false);
            return finished.ToList();
        }

        private async Task SendAndWaitAsync(
            string[] batch,
            Platform platform,
            OnboardingStep step,
            OnboardingStage requesting,
            OnboardingStage requested,
            Func<Platform, IReadOnlyList<string>, string> scriptFor,
            ConcurrentBag<(string, CommandInvocation)> finished,
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
            await WaitAsync(commandId, batch, sentAt, step, finished, resendIfLost: null, cancellationToken).ConfigureAwait(false);
        }

        private async Task WaitAsync(
            string commandId,
            IReadOnlyCollection<string> ids,
            DateTimeOffset sentAt,
            OnboardingStep step,
            ConcurrentBag<(string, CommandInvocation)> finished,
            List<string>? resendIfLost,
            CancellationToken cancellationToken)
        {
            var pending = new HashSet<string>(ids, StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var deadline = sentAt + Policy.CommandTimeout + Policy.DeliveryGrace;
            var firstLook = true;

            while (pending.Count > 0)
            {
                IReadOnlyList<CommandInvocation> invocations;
                try
                {
                    invocations = await owner.Retry.ExecuteAsync(ct => owner.RunCommand.ListInvocationsAsync(scope, commandId, ct), cancellationToken).ConfigureAwait(false);
                }
                catch (CloudException error)
                {
                    foreach (var id in pending)
                    {
                        await FailAsync(id, step, $"could not read the result of command {commandId}: {error.Message}; the next pass reads it again", cancellationToken).ConfigureAwait(false);
                    }

                    return;
                }

                foreach (var invocation in invocations.Where(i => pending.Contains(i.InstanceId)))
                {
                    seen.Add(invocation.InstanceId);
                    if (invocation.IsFinished)
                    {
                        pending.Remove(invocation.InstanceId);
                        finished.Add((invocation.InstanceId, await CompleteOutputAsync(commandId, invocation, cancellationToken).ConfigureAwait(false)));
                    }
                }

                var now = owner.Time.GetUtcNow();
                if (firstLook && resendIfLost is not null && now >= deadline)
                {
                    // Sent by an earlier pass long enough ago that it can no longer be running: whatever left no trace is lost, send it again.
                    foreach (var id in pending.Where(id => !seen.Contains(id)).ToList())
                    {
                        pending.Remove(id);
                        lock (resendIfLost)
                        {
                            resendIfLost.Add(id);
                        }
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

                await Task.Delay(Policy.PollInterval, owner.Time, cancellationToken).ConfigureAwait(false);
            }
        }

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
