using Arcboard.Core.Fleet;

namespace Arcboard.Core.Cloud;

/// <summary>Azure Resource Manager: resource groups and <c>Microsoft.HybridCompute/machines</c>.</summary>
public interface IArcMachines
{
    /// <summary>Creates the resource group when missing (PUT is idempotent; a present group is left as it is).</summary>
    Task EnsureResourceGroupAsync(string subscriptionId, string resourceGroup, string location, CancellationToken cancellationToken);

    /// <summary>The machine, or null on 404.</summary>
    Task<ArcMachine?> GetAsync(MachineRef machine, CancellationToken cancellationToken);

    /// <summary>PUT of the machine: creates it or replaces its writable properties.</summary>
    Task<ArcMachine> PutAsync(MachineRef machine, MachineSpec spec, CancellationToken cancellationToken);

    /// <summary>Every machine in a resource group (all pages); empty when the group does not exist.</summary>
    Task<IReadOnlyList<ArcMachine>> ListAsync(string subscriptionId, string resourceGroup, CancellationToken cancellationToken);

    /// <summary>Deletes the machine and waits for the long-running operation; a missing machine is not an error.</summary>
    Task DeleteAsync(MachineRef machine, CancellationToken cancellationToken);
}

public sealed record MachineRef(string SubscriptionId, string ResourceGroup, string Name)
{
    public string ResourceId => $"/subscriptions/{SubscriptionId}/resourceGroups/{ResourceGroup}/providers/Microsoft.HybridCompute/machines/{Name}";
}

/// <summary>What Arcboard writes when it pre-creates a machine.</summary>
public sealed record MachineSpec(string Location, string ClientPublicKey, Guid VmId, Platform OsType, IReadOnlyDictionary<string, string> Tags);

/// <summary>A machine as ARM returns it; <see cref="Status"/> is <c>Connected</c>, <c>Disconnected</c>, <c>Error</c> or null before any agent spoke.</summary>
public sealed record ArcMachine(
    string Id,
    string Name,
    string Location,
    string? Status,
    Guid? VmId,
    string? ClientPublicKey,
    string? ProvisioningState,
    string? AgentVersion,
    IReadOnlyDictionary<string, string> Tags)
{
    public bool IsConnected => string.Equals(Status, "Connected", StringComparison.OrdinalIgnoreCase);
}
