using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Arcboard.Sandbox.Realism;

/// <summary>
/// The realism part of the admin surface: <c>GET /_sandbox/profile</c>, and <c>GET|POST|DELETE /_sandbox/faults/http</c>
/// to read, set and clear HTTP faults while the sandbox runs.
/// </summary>
public static class RealismEndpoints
{
    public static void Map(IEndpointRouteBuilder routes, SandboxRealism realism)
    {
        var admin = routes.MapGroup("/_sandbox");
        admin.MapGet("/profile", () => Json(realism.Profile.ToJson()));
        admin.MapGet("/faults/http", () => Json(FaultsJson(realism.HttpFaults)));
        admin.MapDelete("/faults/http", () =>
        {
            realism.HttpFaults.Clear();
            return Results.NoContent();
        });
        admin.MapPost("/faults/http", async (HttpContext context) =>
        {
            const string Usage = "the body must be a JSON object {\"kind\":\"arm-5xx\",\"rate\":0.1} or {\"kind\":\"arm-429\",\"count\":20}";
            JsonObject? body;
            try
            {
                body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
            }
            catch (JsonException)
            {
                body = null;
            }

            if (body is null || body["kind"] is not JsonValue kindValue || !kindValue.TryGetValue<string>(out var kind))
            {
                return Error(Usage + ".");
            }

            if (HttpFaultKinds.Check(kind) is { } unknown)
            {
                return Error(unknown);
            }

            double? rate = null;
            int? count = null;
            try
            {
                rate = body["rate"]?.GetValue<double>();
                count = body["count"]?.GetValue<int>();
            }
            catch (Exception ex) when (ex is FormatException or InvalidOperationException)
            {
                return Error("rate must be a number between 0 and 1 and count a whole number.");
            }

            if (rate is null && count is null)
            {
                return Error(Usage + ": give a rate, a count, or both.");
            }

            if (rate is { } r && (!double.IsFinite(r) || r is < 0 or > 1))
            {
                return Error($"rate must be between 0 and 1, not {r}.");
            }

            if (count is < 0)
            {
                return Error($"count cannot be negative.");
            }

            if (rate is { } setRate)
            {
                realism.HttpFaults.Set(kind, setRate);
            }

            if (count is { } cue)
            {
                realism.HttpFaults.Next(kind, cue);
            }

            return Json(FaultsJson(realism.HttpFaults));
        });
    }

    /// <summary><c>{"faults":[{"kind":"arm-5xx","rate":0.1,"pending":0}],"kinds":[...]}</c></summary>
    public static JsonObject FaultsJson(HttpFaults faults) => new()
    {
        ["faults"] = new JsonArray([.. faults.Snapshot().Select(f => (JsonNode)new JsonObject { ["kind"] = f.Kind, ["rate"] = f.Rate, ["pending"] = f.Pending })]),
        ["kinds"] = new JsonArray([.. HttpFaultKinds.All.Select(k => (JsonNode?)JsonValue.Create(k))]),
    };

    private static IResult Json(JsonNode node, int status = 200) => Results.Text(node.ToJsonString(), "application/json", statusCode: status);

    private static IResult Error(string message) => Json(new JsonObject { ["error"] = new JsonObject { ["message"] = message } }, 400);
}
