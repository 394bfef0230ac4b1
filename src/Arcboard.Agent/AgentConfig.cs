using System.Text.Json;
using System.Text.Json.Nodes;

namespace Arcboard.Agent;

/// <summary>The agent's local state (agentconfig.json). Never holds key material.</summary>
public sealed record AgentConfig
{
    public string Status { get; init; } = "Disconnected";
    public string ResourceName { get; init; } = "";
    public string ResourceGroup { get; init; } = "";
    public string SubscriptionId { get; init; } = "";
    public string TenantId { get; init; } = "";
    public string Location { get; init; } = "";
    public string VmId { get; init; } = "";
    public string ResourceId { get; init; } = "";
    public string Cloud { get; init; } = "";
    public string CorrelationId { get; init; } = "";
    public string CloudProvider { get; init; } = "";
    public string AgentVersion { get; init; } = AgentCli.Version;
    public string LastHeartbeat { get; init; } = "";
    public string PrivateLinkScope { get; init; } = "";
    public string GatewayId { get; init; } = "";
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    public static AgentConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            return new AgentConfig();
        }

        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            throw new AgentException(ExitCodes.Unknown, $"The agent configuration {path} is not valid JSON; run 'azcmagent disconnect --force-local-only' to reset it.");
        }

        string S(string name) => json[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (json["tags"] is JsonObject tagObject)
        {
            foreach (var (key, value) in tagObject)
            {
                tags[key] = value is JsonValue tv && tv.TryGetValue<string>(out var s) ? s : "";
            }
        }

        return new AgentConfig
        {
            Status = S("status") is { Length: > 0 } status ? status : "Disconnected",
            ResourceName = S("resourceName"),
            ResourceGroup = S("resourceGroup"),
            SubscriptionId = S("subscriptionId"),
            TenantId = S("tenantId"),
            Location = S("location"),
            VmId = S("vmId"),
            ResourceId = S("resourceId"),
            Cloud = S("cloud"),
            CorrelationId = S("correlationId"),
            CloudProvider = S("cloudProvider"),
            AgentVersion = S("agentVersion") is { Length: > 0 } version ? version : AgentCli.Version,
            LastHeartbeat = S("lastHeartbeat"),
            PrivateLinkScope = S("privateLinkScope"),
            GatewayId = S("gatewayId"),
            Tags = tags,
        };
    }

    public JsonObject ToJson()
    {
        var tags = new JsonObject();
        foreach (var (key, value) in Tags)
        {
            tags[key] = value;
        }

        return new JsonObject
        {
            ["status"] = Status,
            ["resourceName"] = ResourceName,
            ["resourceGroup"] = ResourceGroup,
            ["subscriptionId"] = SubscriptionId,
            ["tenantId"] = TenantId,
            ["location"] = Location,
            ["vmId"] = VmId,
            ["resourceId"] = ResourceId,
            ["cloud"] = Cloud,
            ["correlationId"] = CorrelationId,
            ["cloudProvider"] = CloudProvider,
            ["agentVersion"] = AgentVersion,
            ["lastHeartbeat"] = LastHeartbeat,
            ["privateLinkScope"] = PrivateLinkScope,
            ["gatewayId"] = GatewayId,
            ["tags"] = tags,
        };
    }

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Write then rename, so a crash mid-write never leaves a half file that 'show' cannot read.
        var temp = path + ".tmp";
        File.WriteAllText(temp, ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.Move(temp, path, overwrite: true);
    }
}
