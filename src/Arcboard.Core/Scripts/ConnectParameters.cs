namespace Arcboard.Core.Scripts;

/// <summary>What <c>azcmagent connect existing --use-saved-key</c> needs for one instance.</summary>
public sealed record ConnectParameters(
    string InstanceId,
    string ResourceGroup,
    string SubscriptionId,
    string TenantId,
    string Location,
    string ResourceName,
    Guid VmId,
    string Cloud,
    Guid CorrelationId)
{
    /// <summary>The agent's arguments after <c>connect existing --use-saved-key</c>, unquoted.</summary>
    public IReadOnlyList<string> Arguments =>
    [
        "--resource-group", ResourceGroup,
        "--subscription-id", SubscriptionId,
        "--tenant-id", TenantId,
        "--location", Location,
        "--resource-name", ResourceName,
        "--vmid", VmId.ToString("D"),
        "--cloud", Cloud,
        "--correlation-id", CorrelationId.ToString("D"),
    ];
}
