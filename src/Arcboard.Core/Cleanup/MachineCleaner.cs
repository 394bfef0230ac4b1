using System.Collections.Concurrent;
using Arcboard.Core.Cloud;
using Arcboard.Core.Fleet;
using Arcboard.Core.Onboarding;
using Arcboard.Core.Scripts;
using Arcboard.Core.State;
using Microsoft.Extensions.Logging;

namespace Arcboard.Core.Cleanup;

/// <summary>
/// Removes the Arc machines Arcboard created: those of instances that are gone (<see cref="CleanUpAsync"/>, run after
/// each sync) and those an operator offboards (<see cref="OffboardAsync"/>). Nothing is decided on partial data: a
/// scope is acted on only after a complete EC2 listing, and every machine is read again and its tags checked right
/// before it is deleted, so a machine that does not carry Arcboard's tags for that very instance is never touched.
/// Holds no state between runs: a run cut anywhere is finished by the next one.
/// </summary>
public sealed partial class MachineCleaner(
    IAwsInventory inventory,
    IRunCommand runCommand,
    IArcMachines arm,
    IStateStore store,
    CleanupPolicy policy,
    TimeProvider time,
    ILogger<MachineCleaner> logger) : IDisposable
{
    private readonly TransientRetry _retry = CreateRetry(policy, time, logger);
    private readonly SemaphoreSlim _armCalls = new(policy.MaxParallelArmCalls, policy.MaxParallelArmCalls);

    public void Dispose() => _armCalls.Dispose();

    /// <summary>Deletes the machines of terminated (and, when configured, stopped) instances in every scope that lists completely.</summary>
    public Task<CleanupReport> CleanUpAsync(IReadOnlyList<AwsScope> scopes, ICleanupObserver? observer, CancellationToken cancellationToken) =>
        RunAsync(scopes, withNodes: false, observer ?? NullCleanupObserver.Instance, CleanUpScopeAsync, cancellationToken);

    /// <summary>
    /// Offboards the selected instances: tells each reachable agent to disconnect, then deletes the machine Arcboard
    /// created for it. With <paramref name="dryRun"/>, reports what it would do and changes nothing anywhere.
    /// </summary>
    public async Task<CleanupReport> OffboardAsync(IReadOnlyList<AwsScope> scopes, OffboardSelection selection, bool dryRun, ICleanupObserver? observer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        ArgumentNullException.ThrowIfNull(selection);
        observer ??= NullCleanupObserver.Instance;
        var covered = scopes.Where(selection.Covers).ToList();
        var report = await RunAsync(covered, withNodes: true, observer, (view, o, ct) => OffboardScopeAsync(view, selection, dryRun, o, ct), cancellationToken).ConfigureAwait(false);
        if (selection.InstanceId is { } wanted && report.Machines.Count == 0 && report.Errors.Count == 0)
        {
            var nothing = new MachineRemoval(
                selection.AccountId ?? "", selection.Region ?? "", wanted, null, RemovalAction.NoMachine, AgentAction.None,
                "no machine created by Arcboard was found for this instance in the configured accounts and regions");
            observer.MachineFinished(nothing);
            return report with { Machines = [nothing] };
        }

        return report;
    }

    private static TransientRetry CreateRetry(CleanupPolicy policy, TimeProvider time, ILogger logger)
    {
        var retry = new TransientRetry(time, policy.MaxAttempts, policy.RetryBaseDelay, policy.RetryMaxDelay);
        retry.Retrying += (attempt, error, delay) => Log.Retrying(logger, error.Service, error.Code, attempt, delay.TotalSeconds);
        return retry;
    }

    private async Task<CleanupReport> RunAsync(
        IReadOnlyList<AwsScope> scopes,
        bool withNodes,
        ICleanupObserver observer,
        Func<ScopeView, ICleanupObserver, CancellationToken, Task<List<MachineRemoval>>> work,
        CancellationToken cancellationToken)
    {
        var removals = new ConcurrentBag<MachineRemoval>();
        var errors = new ConcurrentBag<ScopeError>();
        await Parallel.ForEachAsync(
            scopes,
            new ParallelOptions { MaxDegreeOfParallelism = policy.MaxParallelScopes, CancellationToken = cancellationToken },
            async (scope, ct) =>
            {
                var warnings = new List<ScopeError>();
                ScopeView? view = null;
                try
                {
                    view = await ObserveAsync(scope, withNodes, warnings, ct).ConfigureAwait(false);
                }
                catch (CloudException error)
                {
                    warnings.Add(new ScopeError(scope.AccountId, scope.Region, $"could not list the account and region completely, so no machine was deleted there: {error.Message}"));
                    Log.ScopeFailed(logger, scope.AccountId, scope.Region, error.Code, error.Message);
                }

                foreach (var warning in warnings)
                {
                    errors.Add(warning);
                    observer.ScopeFailed(warning);
                }

                if (view is null)
                {
                    return;
                }

                foreach (var removal in await work(view, observer, ct).ConfigureAwait(false))
                {
                    removals.Add(removal);
                }
            }).ConfigureAwait(false);

        return new CleanupReport(
            removals.OrderBy(r => r.AccountId, StringComparer.Ordinal).ThenBy(r => r.Region, StringComparer.Ordinal).ThenBy(r => r.InstanceId, StringComparer.Ordinal).ToList(),
            errors.OrderBy(e => e.AccountId, StringComparer.Ordinal).ThenBy(e => e.Region, StringComparer.Ordinal).ToList());
    }

    /// <summary>
    /// Lists the scope (EC2 completely, SSM when asked), reads the store, and finds every machine Arcboard created there:
    /// those its records name, and those the scope's resource groups hold with Arcboard's tags for one of its instances.
    /// Throws <see cref="CloudException"/> when a listing the decisions rest on fails.
    /// </summary>
    private async Task<ScopeView> ObserveAsync(AwsScope scope, bool withNodes, List<ScopeError> warnings, CancellationToken cancellationToken)
    {
        var (instances, nodes) = await inventory.ListScopeAsync(scope, _retry, withNodes, cancellationToken).ConfigureAwait(false);
        var records = await store.ListAsync(scope, cancellationToken).ConfigureAwait(false);

        var view = new ScopeView(
            scope,
            instances.Where(i => i.Key.AccountId == scope.AccountId && i.Key.Region == scope.Region)
                .GroupBy(i => i.Key.InstanceId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal),
            nodes.GroupBy(n => n.InstanceId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal),
            records.ToDictionary(r => r.Key.InstanceId, StringComparer.Ordinal));

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var record in records.Where(r => r.CreatedByArcboard))
        {
            if (MachineOf(record) is { } machine && seen.Add(machine.ResourceId))
            {
                view.Candidates.Add(new Candidate(record.Key, machine));
            }
        }

        var groups = records.Select(r => r.ResourceGroup).Append(policy.ResourceGroupOf(scope))
            .Where(g => !string.IsNullOrEmpty(g)).Select(g => g!).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        foreach (var group in groups)
        {
            IReadOnlyList<ArcMachine> listed;
            try
            {
                listed = await WithArmSlotAsync(ct => _retry.ExecuteAsync(c => arm.ListAsync(policy.SubscriptionId, group, c), ct), cancellationToken).ConfigureAwait(false);
            }
            catch (CloudException error)
            {
                // The records still name the machines they know; only machines whose record was lost wait for the next run.
                warnings.Add(new ScopeError(scope.AccountId, scope.Region, $"could not list resource group {group} to find machines whose record was lost: {error.Message}"));
                continue;
            }

            foreach (var machine in listed)
            {
                if (TaggedInstance(machine.Tags, scope) is { } key && seen.Add(machine.Id))
                {
                    view.Candidates.Add(new Candidate(key, new MachineRef(policy.SubscriptionId, group, machine.Name)));
                }
            }
        }

        return view;
    }

    // ---- Clean-up of instances that are gone ----

    private async Task<List<MachineRemoval>> CleanUpScopeAsync(ScopeView view, ICleanupObserver observer, CancellationToken cancellationToken)
    {
        var doomed = view.Candidates.Select(c => (Candidate: c, Why: WhyRemove(view, c.Key.InstanceId))).Where(x => x.Why is not null).ToList();
        if (doomed.Count == 0)
        {
            return [];
        }

        observer.StepStarted(view.Scope.ToString(), "delete", doomed.Count);
        var removals = new ConcurrentBag<MachineRemoval>();
        await Parallel.ForEachAsync(doomed, new ParallelOptions { MaxDegreeOfParallelism = policy.MaxParallelArmCalls, CancellationToken = cancellationToken }, async (item, ct) =>
        {
            var removal = await DeleteCheckedAsync(view, item.Candidate, AgentAction.None, $"deleted: {item.Why}", ct).ConfigureAwait(false);
            removals.Add(removal);
            observer.MachineFinished(removal);
        }).ConfigureAwait(false);
        return removals.ToList();
    }

    private string? WhyRemove(ScopeView view, string instanceId)
    {
        if (!view.Instances.TryGetValue(instanceId, out var instance))
        {
            return policy.DeleteTerminated ? "the instance no longer exists in EC2" : null;
        }

        return instance.State switch
        {
            "terminated" or "shutting-down" when policy.DeleteTerminated => $"the instance is {instance.State}",
            "stopped" or "stopping" when policy.DeleteStopped => $"the instance is {instance.State} and cleanup.deleteStopped is on",
            _ => null,
        };
    }

    // ---- Offboarding ----

    private async Task<List<MachineRemoval>> OffboardScopeAsync(ScopeView view, OffboardSelection selection, bool dryRun, ICleanupObserver observer, CancellationToken cancellationToken)
    {
        var results = new ConcurrentBag<MachineRemoval>();
        void Finish(MachineRemoval removal)
        {
            results.Add(removal);
            observer.MachineFinished(removal);
        }

        bool Selected(InstanceKey key) => selection.Matches(key, view.Instances.GetValueOrDefault(key.InstanceId)?.Tags);
        var targets = view.Candidates.Where(c => Selected(c.Key)).ToList();
        var targeted = targets.Select(c => c.Key.InstanceId).ToHashSet(StringComparer.Ordinal);

        foreach (var record in view.Records.Values.Where(r => Selected(r.Key) && !targeted.Contains(r.Key.InstanceId)))
        {
            if (record.ResourceId is not null && !record.CreatedByArcboard)
            {
                Finish(Removal(record.Key, record.ResourceId, RemovalAction.NotOurs, AgentAction.None, "the machine was not created by Arcboard (its agent was connected by someone else); left as it is"));
            }
            else if (selection.InstanceId is not null)
            {
                Finish(Removal(record.Key, null, RemovalAction.NoMachine, AgentAction.None, "Arcboard knows this instance but created no machine for it"));
            }
        }

        if (selection.InstanceId is { } wanted && !targeted.Contains(wanted) && !view.Records.ContainsKey(wanted) && view.Instances.TryGetValue(wanted, out var bare))
        {
            Finish(Removal(bare.Key, null, RemovalAction.NoMachine, AgentAction.None, "no machine created by Arcboard was found for this instance"));
        }

        if (targets.Count == 0)
        {
            return results.ToList();
        }

        // Read every machine first: an agent is told to disconnect only from a machine that is really Arcboard's.
        observer.StepStarted(view.Scope.ToString(), dryRun ? "check (dry run)" : "check", targets.Count);
        var verified = new ConcurrentBag<(Candidate Candidate, ArcMachine Machine)>();
        await Parallel.ForEachAsync(targets, new ParallelOptions { MaxDegreeOfParallelism = policy.MaxParallelArmCalls, CancellationToken = cancellationToken }, async (candidate, ct) =>
        {
            var (machine, problem) = await ReadCheckedAsync(candidate, ct).ConfigureAwait(false);
            if (problem is not null)
            {
                if (problem.Action == RemovalAction.AlreadyGone && !dryRun)
                {
                    await RecordRemovedAsync(view, candidate, problem.Reason).ConfigureAwait(false);
                }

                Finish(problem);
            }
            else
            {
                verified.Add((candidate, machine!));
            }
        }).ConfigureAwait(false);

        var reachable = verified
            .Where(v => IsReachable(view, v.Candidate.Key.InstanceId))
            .GroupBy(v => v.Candidate.Key.InstanceId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Machine.Id, StringComparer.Ordinal);

        if (dryRun)
        {
            foreach (var (candidate, machine) in verified)
            {
                var canTell = reachable.ContainsKey(candidate.Key.InstanceId);
                Finish(Removal(candidate.Key, machine.Id, RemovalAction.WouldDelete, canTell ? AgentAction.WouldDisconnect : AgentAction.Unreachable,
                    canTell ? "would disconnect the agent, then delete the machine" : $"would delete the machine; the agent cannot be told ({Unreachable(view, candidate.Key.InstanceId)})"));
            }

            return results.ToList();
        }

        var agents = await DisconnectAsync(view, reachable, observer, cancellationToken).ConfigureAwait(false);
        observer.StepStarted(view.Scope.ToString(), "delete", verified.Count);
        await Parallel.ForEachAsync(verified, new ParallelOptions { MaxDegreeOfParallelism = policy.MaxParallelArmCalls, CancellationToken = cancellationToken }, async (item, ct) =>
        {
            var id = item.Candidate.Key.InstanceId;
            var (agent, note) = agents.TryGetValue(id, out var told) && string.Equals(reachable[id], item.Machine.Id, StringComparison.OrdinalIgnoreCase)
                ? told
                : reachable.ContainsKey(id)
                    ? (AgentAction.None, "the agent was told about its other machine")
                    : (AgentAction.Unreachable, $"the agent could not be told ({Unreachable(view, id)})");
            Finish(await DeleteCheckedAsync(view, item.Candidate, agent, $"offboarded: {note}; machine deleted", ct).ConfigureAwait(false));
        }).ConfigureAwait(false);
        return results.ToList();
    }

    private static bool IsReachable(ScopeView view, string instanceId) =>
        view.Instances.TryGetValue(instanceId, out var instance) && instance.IsRunning
        && view.Nodes.TryGetValue(instanceId, out var node) && node.IsOnline;

    private static string Unreachable(ScopeView view, string instanceId)
    {
        if (!view.Instances.TryGetValue(instanceId, out var instance))
        {
            return "the instance no longer exists in EC2";
        }

        if (!instance.IsRunning)
        {
            return $"the instance is {instance.State}";
        }

        return view.Nodes.TryGetValue(instanceId, out var node) ? $"its SSM agent is {node.PingStatus}" : "SSM does not manage the instance";
    }

    /// <summary>Sends the disconnect script in batches of 50 per platform and reads every result; returns each instance's agent verdict.</summary>
    private async Task<Dictionary<string, (AgentAction Action, string Note)>> DisconnectAsync(
        ScopeView view, Dictionary<string, string> machines, ICleanupObserver observer, CancellationToken cancellationToken)
    {
        var verdicts = new ConcurrentDictionary<string, (AgentAction, string)>(StringComparer.Ordinal);
        if (machines.Count == 0)
        {
            return new Dictionary<string, (AgentAction, string)>(verdicts, StringComparer.Ordinal);
        }

        observer.StepStarted(view.Scope.ToString(), "disconnect", machines.Count);
        var batches = machines.GroupBy(m => view.Instances[m.Key].Platform)
            .SelectMany(g => g.Chunk(IRunCommand.MaxInstancesPerCommand).Select(batch => (Platform: g.Key, Batch: batch)));
        await Task.WhenAll(batches.Select(async b =>
        {
            var ids = b.Batch.Select(m => m.Key).ToList();
            void FailAll(string reason)
            {
                foreach (var id in ids)
                {
                    verdicts[id] = (AgentAction.Failed, reason);
                }
            }

            string commandId;
            try
            {
                var script = OffboardScripts.Disconnect(b.Platform, b.Batch);
                commandId = await _retry.ExecuteAsync(ct => runCommand.SendAsync(view.Scope, b.Platform, ids, script, policy.CommandTimeout, ct), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception error) when (error is CloudException or ArgumentException)
            {
                FailAll($"the agent could not be told: the disconnect command was not sent ({error.Message})");
                return;
            }

            Log.CommandSent(logger, view.Scope.AccountId, view.Scope.Region, commandId, ids.Count);
            var sentAt = time.GetUtcNow();
            var deadline = sentAt + policy.CommandTimeout + policy.DeliveryGrace;
            var pending = ids.ToHashSet(StringComparer.Ordinal);
            while (pending.Count > 0)
            {
                IReadOnlyList<CommandInvocation> invocations;
                try
                {
                    invocations = await _retry.ExecuteAsync(ct => runCommand.ListInvocationsAsync(view.Scope, commandId, ct), cancellationToken).ConfigureAwait(false);
                }
                catch (CloudException error)
                {
                    FailAll($"the result of disconnect command {commandId} could not be read ({error.Message})");
                    return;
                }

                foreach (var invocation in invocations.Where(i => i.IsFinished && pending.Remove(i.InstanceId)))
                {
                    var result = OffboardScripts.ReadDisconnect(invocation);
                    verdicts[invocation.InstanceId] = result.Verdict switch
                    {
                        DisconnectVerdict.Disconnected => (AgentAction.Disconnected, "the agent disconnected"),
                        DisconnectVerdict.NotConnectedHere => (AgentAction.NotConnectedHere, result.Reason),
                        _ => (AgentAction.Failed, $"the agent could not be disconnected: {result.Reason}"),
                    };
                }

                if (pending.Count == 0)
                {
                    break;
                }

                if (time.GetUtcNow() >= deadline)
                {
                    foreach (var id in pending)
                    {
                        verdicts[id] = (AgentAction.Failed, $"no result from disconnect command {commandId} after {(time.GetUtcNow() - sentAt).TotalSeconds:0} s");
                    }

                    break;
                }

                await Task.Delay(policy.PollInterval, time, cancellationToken).ConfigureAwait(false);
            }
        })).ConfigureAwait(false);
        return new Dictionary<string, (AgentAction, string)>(verdicts, StringComparer.Ordinal);
    }

    // ---- The one way a machine is deleted ----

    /// <summary>Reads the machine and checks it carries Arcboard's tags for this instance; returns the machine, or the verdict when it must not be deleted.</summary>
    private async Task<(ArcMachine? Machine, MachineRemoval? Problem)> ReadCheckedAsync(Candidate candidate, CancellationToken cancellationToken)
    {
        ArcMachine? machine;
        try
        {
            machine = await WithArmSlotAsync(ct => _retry.ExecuteAsync(c => arm.GetAsync(candidate.Machine, c), ct), cancellationToken).ConfigureAwait(false);
        }
        catch (CloudException error)
        {
            return (null, Removal(candidate.Key, candidate.Machine.ResourceId, RemovalAction.Failed, AgentAction.None, $"could not read the machine before deleting it: {error.Message}; the next run tries again"));
        }

        if (machine is null)
        {
            return (null, Removal(candidate.Key, candidate.Machine.ResourceId, RemovalAction.AlreadyGone, AgentAction.None, "the machine was already gone from Azure"));
        }

        if (!OnboardingPolicy.IsManagedBy(machine.Tags, candidate.Key))
        {
            Log.NotOurs(logger, candidate.Key.AccountId, candidate.Key.Region, candidate.Key.InstanceId, machine.Id);
            return (null, Removal(candidate.Key, machine.Id, RemovalAction.NotOurs, AgentAction.None,
                $"the machine does not carry Arcboard's tags for this instance ({OnboardingPolicy.ManagedByTag}={OnboardingPolicy.ManagedByValue}, {OnboardingPolicy.InstanceTag}={candidate.Key}); left as it is"));
        }

        return (machine, null);
    }

    /// <summary>GET, tag check, DELETE, record: the tags are checked on what ARM says now, never on what an earlier listing said.</summary>
    private async Task<MachineRemoval> DeleteCheckedAsync(ScopeView view, Candidate candidate, AgentAction agent, string reason, CancellationToken cancellationToken)
    {
        var (machine, problem) = await ReadCheckedAsync(candidate, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            if (problem.Action == RemovalAction.AlreadyGone)
            {
                // Deleted by an earlier run that stopped before recording it, or by someone else: the record catches up.
                await RecordRemovedAsync(view, candidate, $"{reason} (it was already gone from Azure)").ConfigureAwait(false);
                return problem with { Agent = agent };
            }

            return problem with { Agent = agent };
        }

        try
        {
            await WithArmSlotAsync(ct => _retry.ExecuteAsync(c => arm.DeleteAsync(candidate.Machine, c), ct), cancellationToken).ConfigureAwait(false);
        }
        catch (CloudException error)
        {
            return Removal(candidate.Key, machine!.Id, RemovalAction.Failed, agent, $"Azure Resource Manager did not delete the machine: {error.Message}; the next run tries again");
        }

        Log.MachineDeleted(logger, candidate.Key.AccountId, candidate.Key.Region, candidate.Key.InstanceId, machine!.Id);
        await RecordRemovedAsync(view, candidate, $"{reason}: {machine.Id}").ConfigureAwait(false);
        return Removal(candidate.Key, machine.Id, RemovalAction.Deleted, agent, reason);
    }

    /// <summary>
    /// Marks the instance's record as having no machine any more, so <c>arcboard status</c> shows the removal and a later
    /// onboarding (of an instance that runs again) starts from the beginning. A record that names another machine is left as it is.
    /// </summary>
    private async Task RecordRemovedAsync(ScopeView view, Candidate candidate, string reason)
    {
        // Not cancellable: the deletion already happened, and the record is the only memory of it.
        var record = await store.GetAsync(candidate.Key, CancellationToken.None).ConfigureAwait(false);
        if (record is null)
        {
            if (!view.Instances.TryGetValue(candidate.Key.InstanceId, out var instance))
            {
                return; // Neither the store nor EC2 knows the instance any more; the report carries the deletion.
            }

            record = new InstanceRecord { Key = candidate.Key, Platform = instance.Platform, Stage = OnboardingStage.Discovered };
        }
        else if (MachineOf(record) is { } named && !string.Equals(named.ResourceId, candidate.Machine.ResourceId, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        await store.SaveAsync(record with
        {
            Stage = OnboardingStage.Discovered,
            CommandId = null,
            CommandSentAt = null,
            PublicKey = null,
            VmId = null,
            SubscriptionId = null,
            ResourceGroup = null,
            MachineName = null,
            Location = null,
            ResourceId = null,
            CreatedByArcboard = false,
            Outcome = State.Outcome.Removed,
            Reason = reason,
            FailedStep = null,
            Attempts = 0,
            UpdatedAt = time.GetUtcNow(),
        }, CancellationToken.None).ConfigureAwait(false);
    }

    private static MachineRemoval Removal(InstanceKey key, string? resourceId, RemovalAction action, AgentAction agent, string reason) =>
        new(key.AccountId, key.Region, key.InstanceId, resourceId, action, agent, reason);

    private MachineRef? MachineOf(InstanceRecord record)
    {
        if (record.ResourceId is not null && MachineIds.TryParse(record.ResourceId) is { } parsed)
        {
            return parsed;
        }

        return record.ResourceGroup is not null && record.MachineName is not null
            ? new MachineRef(record.SubscriptionId ?? policy.SubscriptionId, record.ResourceGroup, record.MachineName)
            : null;
    }

    /// <summary>The instance of <paramref name="scope"/> that a machine's Arcboard tags name, or null when they name none there.</summary>
    private static InstanceKey? TaggedInstance(IReadOnlyDictionary<string, string> tags, AwsScope scope)
    {
        if (!tags.TryGetValue(OnboardingPolicy.ManagedByTag, out var by) || by != OnboardingPolicy.ManagedByValue
            || !tags.TryGetValue(OnboardingPolicy.InstanceTag, out var instance))
        {
            return null;
        }

        var parts = instance.Split('/');
        return parts.Length == 3 && parts[0] == scope.AccountId && parts[1] == scope.Region && parts[2].Length > 0
            ? new InstanceKey(parts[0], parts[1], parts[2])
            : null;
    }

    private Task<T> WithArmSlotAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) =>
        _armCalls.RunInSlotAsync(call, cancellationToken);

    private Task WithArmSlotAsync(Func<CancellationToken, Task> call, CancellationToken cancellationToken) =>
        WithArmSlotAsync(async ct =>
        {
            await call(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    private sealed record Candidate(InstanceKey Key, MachineRef Machine);

    private sealed record ScopeView(
        AwsScope Scope,
        Dictionary<string, Ec2Instance> Instances,
        Dictionary<string, SsmNode> Nodes,
        Dictionary<string, InstanceRecord> Records)
    {
        public List<Candidate> Candidates { get; } = [];
    }
}
