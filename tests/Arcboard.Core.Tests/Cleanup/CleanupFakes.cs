using System.Collections.Concurrent;
using Arcboard.Core.Cloud;
using Arcboard.Core.Fleet;
using Arcboard.Core.Scripts;
using Arcboard.Core.Tests.Onboarding;

namespace Arcboard.Core.Tests.Cleanup;

/// <summary>The onboarding fakes' EC2 and SSM, with listing faults and a Run Command that understands the disconnect script.</summary>
internal sealed class CleanupAws(FakeAws inner) : IAwsInventory, IRunCommand
{
    public List<FakeInstance> Instances => inner.Instances;

    /// <summary>See <see cref="FakeAws.ListingsMustOverlap"/>.</summary>
    public bool ListingsMustOverlap
    {
        get => inner.ListingsMustOverlap;
        set => inner.ListingsMustOverlap = value;
    }

    /// <summary>Thrown by every instance listing while set.</summary>
    public CloudException? ListFault { get; set; }

    public ConcurrentBag<(Platform Platform, string[] InstanceIds, string Script)> Sent { get; } = [];

    /// <summary>Instances whose agent is connected, by instance id, to the machine resource id they are connected to.</summary>
    public ConcurrentDictionary<string, string> AgentConnectedTo { get; } = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, List<CommandInvocation>> _commands = new();

    public Task<IReadOnlyList<Ec2Instance>> ListInstancesAsync(AwsScope scope, CancellationToken cancellationToken) =>
        ListFault is { } fault ? throw fault : inner.ListInstancesAsync(scope, cancellationToken);

    public Task<IReadOnlyList<SsmNode>> ListManagedNodesAsync(AwsScope scope, CancellationToken cancellationToken) =>
        inner.ListManagedNodesAsync(scope, cancellationToken);

    public Task<string> SendAsync(AwsScope scope, Platform platform, IReadOnlyList<string> instanceIds, string script, TimeSpan executionTimeout, CancellationToken cancellationToken)
    {
        instanceIds.Count.ShouldBeLessThanOrEqualTo(IRunCommand.MaxInstancesPerCommand);
        script.ShouldContain("disconnect --force-local-only");
        Sent.Add((platform, instanceIds.ToArray(), script));
        var commandId = $"cmd-{Sent.Count}";
        _commands[commandId] = instanceIds.Select(id =>
        {
            // Plays the script's decision: disconnect only an agent connected to the machine the script names for it.
            var quoted = platform == Platform.Linux ? ScriptQuoting.Sh(id) : ScriptQuoting.PowerShell(id);
            script.ShouldContain(quoted);
            if (!AgentConnectedTo.TryGetValue(id, out var current))
            {
                return new CommandInvocation(id, CommandStatus.Success, 0, OffboardScripts.Markers.NotConnected + "\n", "");
            }

            var expected = platform == Platform.Linux ? ScriptQuoting.Sh(current) : ScriptQuoting.PowerShell(current);
            if (!script.Contains($"{quoted}) expected={expected}", StringComparison.Ordinal) && !script.Contains($"{quoted} {{ $expected = {expected} }}", StringComparison.Ordinal))
            {
                return new CommandInvocation(id, CommandStatus.Success, 0, $"{OffboardScripts.Markers.Elsewhere} {current}\n", "");
            }

            AgentConnectedTo.TryRemove(id, out _);
            return new CommandInvocation(id, CommandStatus.Success, 0, "Disconnected\n" + OffboardScripts.Markers.DisconnectExit + " 0\n", "");
        }).ToList();
        return Task.FromResult(commandId);
    }

    public Task<IReadOnlyList<CommandInvocation>> ListInvocationsAsync(AwsScope scope, string commandId, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<CommandInvocation>>(_commands.TryGetValue(commandId, out var list) ? list : []);

    public Task<CommandInvocation?> GetInvocationAsync(AwsScope scope, string commandId, string instanceId, CancellationToken cancellationToken) =>
        Task.FromResult(_commands.TryGetValue(commandId, out var list) ? list.FirstOrDefault(i => i.InstanceId == instanceId) : null);
}

/// <summary>The onboarding fakes' ARM, counting deletes and able to crash a delete or fail a listing.</summary>
internal sealed class CleanupArm(FakeArm inner) : IArcMachines
{
    public FakeArm Inner => inner;
    public ConcurrentDictionary<string, int> Deletes { get; } = new(StringComparer.OrdinalIgnoreCase);
    public int Gets;

    /// <summary>Thrown by the next delete before it reaches ARM, to play a crash between the GET and the DELETE.</summary>
    public Exception? CrashBeforeNextDelete { get; set; }

    /// <summary>Thrown by the next delete after ARM deleted the machine, to play a crash before the store is written.</summary>
    public Exception? CrashAfterNextDelete { get; set; }

    public CloudException? ListFault { get; set; }

    public Task EnsureResourceGroupAsync(string subscriptionId, string resourceGroup, string location, CancellationToken cancellationToken) =>
        inner.EnsureResourceGroupAsync(subscriptionId, resourceGroup, location, cancellationToken);

    public Task<ArcMachine?> GetAsync(MachineRef machine, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Gets);
        return inner.GetAsync(machine, cancellationToken);
    }

    public Task<ArcMachine> PutAsync(MachineRef machine, MachineSpec spec, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("clean-up never writes a machine");

    public Task<IReadOnlyList<ArcMachine>> ListAsync(string subscriptionId, string resourceGroup, CancellationToken cancellationToken) =>
        ListFault is { } fault ? throw fault : inner.ListAsync(subscriptionId, resourceGroup, cancellationToken);

    public async Task DeleteAsync(MachineRef machine, CancellationToken cancellationToken)
    {
        if (CrashBeforeNextDelete is { } before)
        {
            CrashBeforeNextDelete = null;
            throw before;
        }

        if (inner.Machines.ContainsKey(machine.Name))
        {
            Deletes.AddOrUpdate(machine.Name, 1, (_, n) => n + 1);
        }

        await inner.DeleteAsync(machine, cancellationToken);
        if (CrashAfterNextDelete is { } after)
        {
            CrashAfterNextDelete = null;
            throw after;
        }
    }
}
