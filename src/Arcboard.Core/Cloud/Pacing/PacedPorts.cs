using Arcboard.Core.Fleet;

namespace Arcboard.Core.Cloud.Pacing;

/// <summary><see cref="IArcMachines"/> within the subscription's ARM read, write and delete quotas.</summary>
public sealed class PacedArcMachines(IArcMachines inner, QuotaGate gate) : IArcMachines
{
    public Task EnsureResourceGroupAsync(string subscriptionId, string resourceGroup, string location, CancellationToken cancellationToken) =>
        // The adapter reads the group first and writes only when it is missing; a write is the scarcer quota to wait on.
        gate.RunAsync(QuotaKey.ArmWrites(subscriptionId), ct => inner.EnsureResourceGroupAsync(subscriptionId, resourceGroup, location, ct), cancellationToken);

    public Task<ArcMachine?> GetAsync(MachineRef machine, CancellationToken cancellationToken) =>
        gate.RunAsync(QuotaKey.ArmReads(machine.SubscriptionId), ct => inner.GetAsync(machine, ct), cancellationToken);

    public Task<ArcMachine> PutAsync(MachineRef machine, MachineSpec spec, CancellationToken cancellationToken) =>
        gate.RunAsync(QuotaKey.ArmWrites(machine.SubscriptionId), ct => inner.PutAsync(machine, spec, ct), cancellationToken);

    public Task<IReadOnlyList<ArcMachine>> ListAsync(string subscriptionId, string resourceGroup, CancellationToken cancellationToken) =>
        gate.RunAsync(QuotaKey.ArmReads(subscriptionId), ct => inner.ListAsync(subscriptionId, resourceGroup, ct), cancellationToken);

    public Task DeleteAsync(MachineRef machine, CancellationToken cancellationToken) =>
        gate.RunAsync(QuotaKey.ArmDeletes(machine.SubscriptionId), ct => inner.DeleteAsync(machine, ct), cancellationToken);
}

/// <summary><see cref="IRunCommand"/> within the account and region's SSM quotas: SendCommand apart from the reads.</summary>
public sealed class PacedRunCommand(IRunCommand inner, QuotaGate gate) : IRunCommand
{
    public Task<string> SendAsync(AwsScope scope, Platform platform, IReadOnlyList<string> instanceIds, string script, TimeSpan executionTimeout, CancellationToken cancellationToken) =>
        gate.RunAsync(QuotaKey.SsmSend(scope), ct => inner.SendAsync(scope, platform, instanceIds, script, executionTimeout, ct), cancellationToken);

    public Task<IReadOnlyList<CommandInvocation>> ListInvocationsAsync(AwsScope scope, string commandId, CancellationToken cancellationToken) =>
        gate.RunAsync(QuotaKey.SsmReads(scope), ct => inner.ListInvocationsAsync(scope, commandId, ct), cancellationToken);

    public Task<CommandInvocation?> GetInvocationAsync(AwsScope scope, string commandId, string instanceId, CancellationToken cancellationToken) =>
        gate.RunAsync(QuotaKey.SsmReads(scope), ct => inner.GetInvocationAsync(scope, commandId, instanceId, ct), cancellationToken);
}

/// <summary><see cref="IAwsInventory"/> within the account and region's EC2 and SSM read quotas.</summary>
public sealed class PacedInventory(IAwsInventory inner, QuotaGate gate) : IAwsInventory
{
    public Task<IReadOnlyList<Ec2Instance>> ListInstancesAsync(AwsScope scope, CancellationToken cancellationToken) =>
        gate.RunAsync(QuotaKey.Ec2Reads(scope), ct => inner.ListInstancesAsync(scope, ct), cancellationToken);

    public Task<IReadOnlyList<SsmNode>> ListManagedNodesAsync(AwsScope scope, CancellationToken cancellationToken) =>
        gate.RunAsync(QuotaKey.SsmReads(scope), ct => inner.ListManagedNodesAsync(scope, ct), cancellationToken);
}
