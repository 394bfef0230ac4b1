using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Arcboard.Sandbox.Hosting;

namespace Arcboard.Bench;

/// <summary>
/// How the harness asks the sandbox for a profile and for modelled instances, and how it reads back what the sandbox
/// applied. The profile and the instance mode are newer sandbox features: the project file defines
/// SANDBOX_PROFILES and SANDBOX_INSTANCE_MODES when the sandbox's sources have them, so the harness builds either way.
/// </summary>
internal static class SandboxSetup
{
    public static SandboxOptions Options(BenchOptions bench, string fleetFile, string dataDirectory)
    {
        var options = new SandboxOptions { FleetFile = fleetFile, Seed = bench.Seed, DataDirectory = dataDirectory };
#if SANDBOX_PROFILES
        var profile = Arcboard.Sandbox.Realism.SandboxProfile.Resolve(bench.Profile);
        options = options with { Profile = profile };
#endif
#if SANDBOX_INSTANCE_MODES
        options = options with { InstanceMode = Arcboard.Sandbox.Instances.InstanceMode.Modelled };
#endif
#if SANDBOX_PROFILES && SANDBOX_INSTANCE_MODES
        // The instances take the profile's time for delivery, scripts and agent commands, so the lower bound and the
        // sandbox agree on what one instance's critical path costs.
        var latencies = profile.Latencies;
        options = options with { InstanceLatencies = new Arcboard.Sandbox.Instances.InstanceLatencies(latencies.CommandDelivery, latencies.ScriptRun, latencies.Genkey, latencies.Connect) };
#endif
        return options;
    }

    /// <summary>Fails with a one-line reason before anything starts when the profile cannot be had.</summary>
    public static string? ProfileProblem(string profile)
    {
#if SANDBOX_PROFILES
        try
        {
            Arcboard.Sandbox.Realism.SandboxProfile.Resolve(profile);
            return null;
        }
        catch (Arcboard.Sandbox.Fleet.SandboxConfigurationException error)
        {
            return $"--profile: {error.Message}";
        }
#else
        return profile == "compressed" ? null : $"--profile: this sandbox has no profiles yet; only the default 'compressed' is accepted, and it runs without latencies or quotas.";
#endif
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
