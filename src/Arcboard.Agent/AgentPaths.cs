using System.Collections;

namespace Arcboard.Agent;

/// <summary>Where the agent keeps its state, for one OS layout under one root (contracts.md section 1).</summary>
public sealed record AgentPaths(string Root, bool IsWindows, string PrivateKey, string Config, string Log)
{
    public static AgentPaths Resolve(IDictionary environment)
    {
        var isWindows = (Get(environment, "AZCMAGENT_OS")?.ToLowerInvariant()) switch
        {
            "windows" => true,
            "linux" => false,
            null or "" => OperatingSystem.IsWindows(),
            var other => throw new AgentException(ExitCodes.InvalidArgument, $"AZCMAGENT_OS must be 'linux' or 'windows', not '{other}'."),
        };

        var root = Get(environment, "AZCMAGENT_ROOT");
        if (string.IsNullOrEmpty(root))
        {
            // On a real machine the layout is absolute; here the host's own root stands for it.
            root = isWindows ? @"C:\" : "/";
        }

        return isWindows
            ? new AgentPaths(
                root,
                true,
                Combine(root, "ProgramData", "AzureConnectedMachineAgent", "Certs", "genPrivateKey.pem"),
                Combine(root, "ProgramData", "AzureConnectedMachineAgent", "Config", "agentconfig.json"),
                Combine(root, "ProgramData", "AzureConnectedMachineAgent", "Log", "azcmagent.log"))
            : new AgentPaths(
                root,
                false,
                Combine(root, "var", "opt", "azcmagent", "certs", "genPrivateKey.pem"),
                Combine(root, "var", "opt", "azcmagent", "agentconfig.json"),
                Combine(root, "var", "opt", "azcmagent", "log", "azcmagent.log"));
    }

    internal static string? Get(IDictionary environment, string name) => environment[name] as string;

    // Path.Combine uses the host's separator, which is what the files on this host need, whatever layout is simulated.
    private static string Combine(string root, params string[] parts) => Path.Combine([root, .. parts]);
}
