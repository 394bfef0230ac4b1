using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Arcboard.Sandbox.Admin;
using Arcboard.Sandbox.Realism;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Arcboard.Sandbox.Azure;

/// <summary>
/// All of the simulated Azure: the token endpoint, ARM (resource groups and HybridCompute machines) and the
/// identity service agents prove their key to. One lock guards the state: calls are short and the sandbox
/// favours obviously-correct over fast.
/// </summary>
public sealed partial class AzureCloud
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ResourceGroupState> _resourceGroups = new(StringComparer.OrdinalIgnoreCase);
    // Key: "{resourceGroup}/{name}" lower-cased; ARM names are case-insensitive.
    private readonly SortedDictionary<string, MachineState> _machines = new(StringComparer.Ordinal);
    private readonly SandboxStats _stats;
    private readonly TimeProvider _time;
    private readonly SandboxRealism _realism;

    /// <param name="realism">Latency, quotas and faults to apply; by default none (the instant profile).</param>
    public AzureCloud(AzureCloudOptions options, SandboxStats stats, TimeProvider time, SandboxRealism? realism = null)
    {
        options.Validate();
        Options = options;
        _stats = stats;
        _time = time;
        _realism = realism ?? new SandboxRealism(SandboxProfile.Instant, time, seed: 1);
    }

    public AzureCloudOptions Options { get; }

    /// <summary>Maps the token endpoint, ARM and the identity service; all belong on the HTTPS listener.</summary>
    public void MapEndpoints(IEndpointRouteBuilder routes)
    {
        MapTokenEndpoint(routes);
        MapArmEndpoints(routes);
        MapIdentityEndpoints(routes);
    }

    /// <summary>
    /// Creates the resource group when needed and a machine that is already Connected, as for an instance
    /// whose agent was onboarded before Arcboard ran.
    /// </summary>
    public void SeedConnectedMachine(string resourceGroup, string name, string location, Guid vmId, string osType, string clientPublicKey)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (!_resourceGroups.TryGetValue(resourceGroup, out var group))
            {
                _resourceGroups[resourceGroup] = group = new ResourceGroupState(Options.SubscriptionId, resourceGroup, location);
            }

            var machine = new MachineState
            {
                SubscriptionId = Options.SubscriptionId,
                ResourceGroup = group.Name,
                Name = name,
                Location = location,
                VmId = vmId,
                CreatedAt = now,
                LastModifiedAt = now,
                Kind = "AWS",
                OsType = osType,
                Status = "Connected",
                LastStatusChange = now,
                AgentVersion = "1.50.0-arcboard",
                OsName = osType,
                DisplayName = name,
                MachineFqdn = name,
                CloudProvider = "AWS",
                PrincipalId = Guid.NewGuid(),
            };

            // Connected before Arcboard ran: its key has already been proven.
            machine.RegisterKey(clientPublicKey, now);
            machine.RegistrationUsed = true;
            _machines[MachineKey(resourceGroup, name)] = machine;
        }
    }

    /// <summary>
    /// Sets a machine's <c>properties.status</c> (for example <c>Disconnected</c> or <c>Error</c>) as the real service
    /// does when heartbeats stop; for tests and fault injection. False when there is no such machine.
    /// </summary>
    public bool SetMachineStatus(string resourceGroup, string name, string? status)
    {
        lock (_gate)
        {
            if (!_machines.TryGetValue(MachineKey(resourceGroup, name), out var machine))
            {
                return false;
            }

            if (machine.Status != status)
            {
                machine.Status = status;
                machine.LastStatusChange = _time.GetUtcNow();
            }

            return true;
        }
    }

    /// <summary>Every machine, ordered by resource group then name.</summary>
    public IReadOnlyList<SandboxMachine> ListMachines()
    {
        lock (_gate)
        {
            return _machines.Values.Select(m => m.Snapshot()).ToList();
        }
    }

    /// <summary>The machine with that resource id, or null.</summary>
    public SandboxMachine? FindMachine(string resourceGroup, string name)
    {
        lock (_gate)
        {
            return _machines.GetValueOrDefault(MachineKey(resourceGroup, name))?.Snapshot();
        }
    }

    public IReadOnlyList<string> ListResourceGroups()
    {
        lock (_gate)
        {
            return _resourceGroups.Values.Select(g => g.Name).Order(StringComparer.OrdinalIgnoreCase).ToList();
        }
    }

    internal static string MachineKey(string resourceGroup, string name) => $"{resourceGroup.ToLowerInvariant()}/{name.ToLowerInvariant()}";

    internal static JsonObject TagsJson(IReadOnlyDictionary<string, string> tags)
    {
        var json = new JsonObject();
        foreach (var (key, value) in tags)
        {
            json[key] = value;
        }

        return json;
    }

    private static IResult Json(JsonNode body, int statusCode) =>
        Results.Text(body.ToJsonString(), "application/json; charset=utf-8", statusCode: statusCode);

    private static async Task<JsonNode?> ReadJsonAsync(HttpRequest request)
    {
        try
        {
            return await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? GetString(JsonNode? node, string name) =>
        node is JsonObject obj && obj[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static string NewId() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
}
