using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Arcboard.Sandbox.Instances;

/// <summary>
/// The admin surface of the instances: <c>GET /_sandbox/modelled</c> says what is simulated rather than run, and
/// <c>/_sandbox/faults/instances</c> adds (POST), lists (GET) and clears (DELETE) instance-level faults.
/// </summary>
public static class InstanceEndpoints
{
    public static void Map(IEndpointRouteBuilder routes, InstanceMode mode, IReadOnlyList<string> modelled, InstanceFaults faults)
    {
        var admin = routes.MapGroup("/_sandbox");
        admin.MapGet("/modelled", () => Json(new JsonObject
        {
            ["mode"] = mode == InstanceMode.Modelled ? "modelled" : "process",
            ["modelled"] = new JsonArray([.. modelled.Select(m => (JsonNode?)JsonValue.Create(m))]),
        }));
        admin.MapGet("/faults/instances", () => Json(FaultsJson(faults)));
        admin.MapDelete("/faults/instances", (HttpContext context) =>
        {
            int? seed = int.TryParse(context.Request.Query["seed"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : null;
            faults.Clear(seed);
            return Results.NoContent();
        });
        admin.MapPost("/faults/instances", async (HttpContext context) =>
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
                return Error(400, "the body must be a JSON object such as {\"kind\":\"command-hang\",\"rate\":0.05} or {\"kind\":\"instance-terminate\",\"count\":3}.");
            }

            var (rule, problem) = ParseRule(body);
            if (rule is null)
            {
                return Error(400, problem!);
            }

            try
            {
                faults.Add(rule);
            }
            catch (ArgumentException e)
            {
                return Error(400, e.Message.Split(" (Parameter", 2)[0]);
            }

            return Json(FaultsJson(faults), 201);
        });
    }

    /// <summary>A rule from <c>{"kind":..., "rate":... | "count":..., "instanceIds":[...], "durationSeconds":...}</c>.</summary>
    public static (InstanceFaultRule? Rule, string? Problem) ParseRule(JsonObject body)
    {
        var kindText = body["kind"] is JsonValue k && k.TryGetValue<string>(out var kind) ? kind : null;
        if (!InstanceFaults.TryParse(kindText, out var parsedKind))
        {
            return (null, $"kind: '{kindText}' is not an instance fault; use one of {string.Join(", ", InstanceFaults.KindNames)}.");
        }

        double rate = 0;
        if (body["rate"] is { } rateNode && !(rateNode is JsonValue rv && rv.TryGetValue(out rate)))
        {
            return (null, "rate: must be a number from 0 to 1.");
        }

        var count = 0;
        if (body["count"] is { } countNode && !(countNode is JsonValue cv && cv.TryGetValue(out count)))
        {
            return (null, "count: must be a whole number.");
        }

        List<string>? ids = null;
        if (body["instanceIds"] is JsonArray array)
        {
            ids = [.. array.Select(v => v is JsonValue s && s.TryGetValue<string>(out var id) ? id : "")];
            if (ids.Any(string.IsNullOrEmpty))
            {
                return (null, "instanceIds: must be a list of instance id strings.");
            }
        }

        TimeSpan? duration = null;
        if (body["durationSeconds"] is { } durationNode)
        {
            if (durationNode is not JsonValue dv || !dv.TryGetValue<double>(out var seconds))
            {
                return (null, "durationSeconds: must be a number of seconds.");
            }

            duration = TimeSpan.FromSeconds(seconds);
        }

        var rule = new InstanceFaultRule(parsedKind, rate, count, ids, duration);
        var problems = rule.Validate();
        return problems.Count > 0 ? (null, string.Join(" ", problems)) : (rule, null);
    }

    public static JsonObject FaultsJson(InstanceFaults faults) => new()
    {
        ["seed"] = faults.Seed,
        ["kinds"] = new JsonArray([.. InstanceFaults.KindNames.Select(n => (JsonNode?)JsonValue.Create(n))]),
        ["rules"] = new JsonArray([.. faults.Active.Select(a => (JsonNode?)new JsonObject
        {
            ["kind"] = InstanceFaults.ToWire(a.Rule.Kind),
            ["rate"] = a.Rule.Rate,
            ["count"] = a.Rule.Count,
            ["remaining"] = a.Remaining,
            ["instanceIds"] = a.Rule.InstanceIds is { } ids ? new JsonArray([.. ids.Select(i => (JsonNode?)JsonValue.Create(i))]) : null,
            ["durationSeconds"] = a.Rule.Kind is InstanceFaultKind.InvocationMissing or InstanceFaultKind.InstanceReboot ? a.Rule.EffectiveDuration.TotalSeconds : null,
        })]),
    };

    private static IResult Json(JsonObject json, int status = 200) => Results.Text(json.ToJsonString(), "application/json", statusCode: status);

    private static IResult Error(int status, string message) =>
        Results.Text(new JsonObject { ["error"] = new JsonObject { ["message"] = message } }.ToJsonString(), "application/json", statusCode: status);
}
