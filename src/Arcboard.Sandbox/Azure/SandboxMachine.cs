using System.Globalization;
using System.Text.Json.Nodes;

namespace Arcboard.Sandbox.Azure;

/// <summary>A read-only snapshot of one Arc machine, for tests and the admin surface.</summary>
public sealed record SandboxMachine(
    string Id,
    string SubscriptionId,
    string ResourceGroup,
    string Name,
    string Location,
    Guid VmId,
    string? Status,
    string? OsType,
    string? ClientPublicKey,
    string? AgentVersion,
    DateTimeOffset? LastStatusChange,
    IReadOnlyDictionary<string, string> Tags,
    DateTimeOffset? CreatedAt = null);

internal sealed class ResourceGroupState(string subscriptionId, string name, string location)
{
    public string SubscriptionId { get; } = subscriptionId;
    public string Name { get; } = name;
    public string Location { get; } = location;
    public Dictionary<string, string> Tags { get; set; } = new(StringComparer.Ordinal);

    public string Id => $"/subscriptions/{SubscriptionId}/resourceGroups/{Name}";

    public JsonObject ToJson() => new()
    {
        ["id"] = Id,
        ["name"] = Name,
        ["type"] = "Microsoft.Resources/resourceGroups",
        ["location"] = Location,
        ["tags"] = AzureCloud.TagsJson(Tags),
        ["properties"] = new JsonObject { ["provisioningState"] = "Succeeded" },
    };
}

/// <summary>One machine as the sandbox's ARM holds it; guarded by the cloud's lock.</summary>
internal sealed class MachineState
{
    public required string SubscriptionId { get; init; }
    public required string ResourceGroup { get; init; }
    public required string Name { get; init; }
    public required string Location { get; init; }
    public required Guid VmId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public string? Kind { get; set; }
    public Dictionary<string, string> Tags { get; set; } = new(StringComparer.Ordinal);
    public Guid? PrincipalId { get; set; }
    public string? ClientPublicKey { get; private set; }

    /// <summary>
    /// When the current clientPublicKey was registered (the PUT that first carried it). A registration may be proven
    /// once, within the proof window from this moment; a PUT with another key starts a new registration.
    /// </summary>
    public DateTimeOffset? RegisteredAt { get; private set; }

    /// <summary>Names the current registration, so a challenge issued for an earlier key cannot serve a later one.</summary>
    public Guid RegistrationId { get; private set; }

    /// <summary>True once an agent has proven the current key: a second proof of the same registration is a replay.</summary>
    public bool RegistrationUsed { get; set; }
    public string? OsType { get; set; }
    public string? Status { get; set; }
    public DateTimeOffset? LastStatusChange { get; set; }
    public string? AgentVersion { get; set; }
    public string? OsName { get; set; }
    public string? OsVersion { get; set; }
    public string? DisplayName { get; set; }
    public string? MachineFqdn { get; set; }
    public string? CloudProvider { get; set; }
    public DateTimeOffset LastModifiedAt { get; set; }

    public string Id => $"/subscriptions/{SubscriptionId}/resourceGroups/{ResourceGroup}/providers/Microsoft.HybridCompute/machines/{Name}";

    /// <summary>Records the key a PUT carried; only a different key starts a new registration, so a repeated PUT changes nothing.</summary>
    public void RegisterKey(string? publicKey, DateTimeOffset now)
    {
        if (publicKey is null || publicKey == ClientPublicKey)
        {
            return;
        }

        ClientPublicKey = publicKey;
        RegisteredAt = now;
        RegistrationId = Guid.NewGuid();
        RegistrationUsed = false;
    }

    public SandboxMachine Snapshot() => new(Id, SubscriptionId, ResourceGroup, Name, Location, VmId, Status, OsType, ClientPublicKey,
        AgentVersion, LastStatusChange, new Dictionary<string, string>(Tags, StringComparer.Ordinal), CreatedAt);

    /// <summary>
    /// The resource as api-version 2025-01-13 returns it. <c>status</c> stays null until an agent proves its key
    /// (newer api-versions say <c>AwaitingConnection</c>; 2025-01-13 clients see null).
    /// </summary>
    public JsonObject ToJson(string tenantId)
    {
        var json = new JsonObject
        {
            ["id"] = Id,
            ["name"] = Name,
            ["type"] = "Microsoft.HybridCompute/machines",
            ["location"] = Location,
        };
        if (Kind is not null)
        {
            json["kind"] = Kind;
        }

        json["tags"] = AzureCloud.TagsJson(Tags);
        if (PrincipalId is { } principal)
        {
            json["identity"] = new JsonObject
            {
                ["type"] = "SystemAssigned",
                ["principalId"] = principal.ToString("D"),
                ["tenantId"] = tenantId,
            };
        }

        json["systemData"] = new JsonObject
        {
            ["createdByType"] = "Application",
            ["createdAt"] = Iso(CreatedAt),
            ["lastModifiedByType"] = "Application",
            ["lastModifiedAt"] = Iso(LastModifiedAt),
        };
        json["properties"] = new JsonObject
        {
            ["provisioningState"] = "Succeeded",
            ["status"] = Status,
            ["lastStatusChange"] = LastStatusChange is { } changed ? Iso(changed) : null,
            ["errorDetails"] = new JsonArray(),
            ["agentVersion"] = AgentVersion,
            ["vmId"] = VmId.ToString("D"),
            ["displayName"] = DisplayName,
            ["machineFqdn"] = MachineFqdn,
            ["clientPublicKey"] = ClientPublicKey,
            ["osName"] = OsName,
            ["osVersion"] = OsVersion,
            ["osType"] = OsType,
            ["vmUuid"] = null,
            ["cloudMetadata"] = CloudProvider is null ? null : new JsonObject { ["provider"] = CloudProvider },
            ["detectedProperties"] = new JsonObject(),
        };
        return json;
    }

    internal static string Iso(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);
}
