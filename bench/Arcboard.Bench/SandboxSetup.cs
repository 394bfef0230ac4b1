using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Arcboard.Sandbox.Fleet;
using Arcboard.Sandbox.Hosting;
using Arcboard.Sandbox.Instances;
using Arcboard.Sandbox.Realism;

namespace Arcboard.Bench;

/// <summary>How the harness asks the sandbox for a profile and modelled instances, and reads back what it applied.</summary>
internal static class SandboxSetup
{
    /// <summary>Modelled instances take the profile's own delivery, script and agent latencies, so the lower bound and the sandbox agree.</summary>
    public static SandboxOptions Options(BenchOptions bench, string fleetFile, string dataDirectory) => new()
    {
        FleetFile = fleetFile,
        Seed = bench.Seed,
        DataDirectory = dataDirectory,
        Profile = SandboxProfile.Resolve(bench.Profile),
        InstanceMode = InstanceMode.Modelled,
    };

    /// <summary>Fails with a one-line reason before anything starts when the profile cannot be had.</summary>
    public static string? ProfileProblem(string profile)
    {
        try
        {
            SandboxProfile.Resolve(profile);
            return null;
        }
        catch (SandboxConfigurationException error)
        {
            return $"--profile: {error.Message}";
        }
    }

    /// <summary>The profile the running sandbox applies (<c>GET /_sandbox/profile</c>), as the lower bound needs it.</summary>
    public static async Task<(BoundModel Model, JsonNode? Profile)> ReadProfileAsync(HttpClient admin, SandboxHost sandbox, CancellationToken cancellationToken)
    {
        using var response = await admin.GetAsync(new Uri(sandbox.Endpoints.AdminUrl + "/profile"), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return (BoundModel.Unlimited, null);
        }

        var profile = await response.Content.ReadFromJsonAsync<JsonNode>(cancellationToken);
        return (ProfileBound.FromProfileJson(profile), profile);
    }

    /// <summary>What the sandbox simulates instead of doing for real (<c>GET /_sandbox/modelled</c>); empty when it has no such list.</summary>
    public static async Task<IReadOnlyList<string>> ReadModelledAsync(HttpClient admin, SandboxHost sandbox, CancellationToken cancellationToken)
    {
        using var response = await admin.GetAsync(new Uri(sandbox.Endpoints.AdminUrl + "/modelled"), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return [];
        }

        var node = await response.Content.ReadFromJsonAsync<JsonNode>(cancellationToken);
        var list = node as JsonArray ?? node?["modelled"] as JsonArray;
        return list is null ? [] : [.. list.Select(item => item?.ToString() ?? "")];
    }
}
