using System.Text.Json;
using System.Text.Json.Nodes;
using Arcboard.Sandbox.Fleet;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Arcboard.Sandbox.Admin;

/// <summary>The sandbox's own surface under <c>/_sandbox</c>: call counters and fleet changes, for tests, demos and benchmarks.</summary>
public static class AdminEndpoints
{
    public static void Map(IEndpointRouteBuilder routes, SandboxFleet fleet, SandboxStats stats, Action<SandboxInstance> prepareLaunched)
    {
        var admin = routes.MapGroup("/_sandbox");
        admin.MapGet("/stats", () => Results.Text(StatsJson(stats).ToJsonString(), "application/json"));
        admin.MapPost("/stats/reset", () =>
        {
            stats.Reset();
            return Results.NoContent();
        });
        admin.MapGet("/fleet", () => Results.Text(new JsonObject { ["instances"] = new JsonArray([.. fleet.Instances.Select(InstanceJson)]) }.ToJsonString(), "application/json"));
        admin.MapPost("/instances", async (HttpContext context) =>
        {
            JsonObject? body;
            try
            {
                body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            }
            catch (JsonException)
            {
                body = null;
            }

            if (body is null)
            {
                return Error(400, "the body must be a JSON object: {\"account\":..., \"region\":..., \"platform\":\"linux|windows\", \"ssm\":..., \"agent\":..., \"tags\":{...}}");
            }

            string? S(string name) => body[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            var account = S("account") ?? fleet.AccountIds.FirstOrDefault() ?? "";
            var region = S("region") ?? fleet.RegionsOf(account).FirstOrDefault();
            if (region is null)
            {
                return Error(400, "region: missing, and the account has no region to default to.");
            }

            var platform = S("platform") ?? "linux";
            var ssm = S("ssm") ?? "online";
            var agent = S("agent") ?? "installed";
            if (platform is not ("linux" or "windows") || ssm is not ("online" or "offline" or "none") || agent is not ("none" or "installed" or "connected"))
            {
                return Error(400, "platform must be linux|windows, ssm online|offline|none, agent none|installed|connected.");
            }

            var tags = new Dictionary<string, string>(StringComparer.Ordinal);
            if (body["tags"] is JsonObject tagObject)
            {
                foreach (var (key, value) in tagObject)
                {
                    tags[key] = value?.ToString() ?? "";
                }
            }

            try
            {
                var instance = fleet.Launch(
                    account,
                    region,
                    platform == "windows" ? InstancePlatform.Windows : InstancePlatform.Linux,
                    tags,
                    ssm switch { "offline" => SsmStatus.Offline, "none" => SsmStatus.None, _ => SsmStatus.Online },
                    agent switch { "none" => AgentStatus.None, "connected" => AgentStatus.Connected, _ => AgentStatus.Installed });
                prepareLaunched(instance);
                return Results.Text(InstanceJson(instance).ToJsonString(), "application/json", statusCode: 201);
            }
            catch (SandboxConfigurationException ex)
            {
                return Error(400, ex.Message);
            }
        });
        admin.MapPost("/instances/{id}/{action}", (string id, string action) =>
        {
            var instance = fleet.Find(id);
            if (instance is null)
            {
                return Error(404, $"no instance {id} in the fleet.");
            }

            var changed = action switch
            {
                "stop" => fleet.Transition(id, InstanceState.Stopped),
                "start" => fleet.Transition(id, InstanceState.Running),
                "terminate" => fleet.Transition(id, InstanceState.Terminated),
                "ssm-online" => fleet.SetSsm(id, SsmStatus.Online),
                "ssm-offline" => fleet.SetSsm(id, SsmStatus.Offline),
                _ => (bool?)null,
            };
            return changed switch
            {
                null => Error(404, $"unknown action '{action}'; use stop, start, terminate, ssm-online or ssm-offline."),
                false => Error(409, $"{id} is {instance.State.ToWire()}; it cannot {action}."),
                true => Results.Text(InstanceJson(instance).ToJsonString(), "application/json"),
            };
        });
    }

    public static JsonObject StatsJson(SandboxStats stats) => new()
    {
        ["calls"] = ToJson(stats.Snapshot()),
        ["throttled"] = ToJson(stats.ThrottledSnapshot()),
        ["faults"] = new JsonObject([.. stats.FaultSnapshot().Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value))]),
    };

    public static JsonObject InstanceJson(SandboxInstance instance)
    {
        var tags = new JsonObject();
        foreach (var (key, value) in instance.Tags)
        {
            tags[key] = value;
        }

        return new JsonObject
        {
            ["account"] = instance.AccountId,
            ["region"] = instance.Region,
            ["id"] = instance.Id,
            ["platform"] = instance.Platform.ToWire(),
            ["state"] = instance.State.ToWire(),
            ["ssm"] = instance.Ssm.ToWire(),
            ["agent"] = instance.InitialAgent.ToWire(),
            ["agentStatus"] = instance.ReadAgentStatus(),
            ["root"] = instance.RootDirectory,
            ["tags"] = tags,
        };
    }

    private static JsonObject ToJson(SortedDictionary<string, SortedDictionary<string, long>> snapshot)
    {
        var json = new JsonObject();
        foreach (var (service, operations) in snapshot)
        {
            var ops = new JsonObject();
            foreach (var (operation, count) in operations)
            {
                ops[operation] = count;
            }

            json[service] = ops;
        }

        return json;
    }

    private static IResult Error(int status, string message) =>
        Results.Text(new JsonObject { ["error"] = new JsonObject { ["message"] = message } }.ToJsonString(), "application/json", statusCode: status);
}
