using Arcboard.Sandbox.Fleet;

namespace Arcboard.Sandbox.Instances;

/// <summary>Puts an <c>azcmagent</c> launcher for Arcboard.Agent in a folder that instances with the agent get on their PATH.</summary>
public static class AgentLauncher
{
    /// <summary>Where the build copies the agent (the ProjectReference in Arcboard.Sandbox.csproj).</summary>
    public static string AgentAssemblyPath => Path.Combine(AppContext.BaseDirectory, "azcmagent.dll");

    public static string Install(string binDirectory)
    {
        var agent = AgentAssemblyPath;
        if (!File.Exists(agent) || !File.Exists(Path.ChangeExtension(agent, ".runtimeconfig.json")))
        {
            throw new SandboxConfigurationException(
                $"{agent}: the agent (azcmagent.dll and azcmagent.runtimeconfig.json) is missing next to the sandbox; build Arcboard.Sandbox, which copies it from Arcboard.Agent.");
        }

        Directory.CreateDirectory(binDirectory);
        var launcher = Path.Combine(binDirectory, "azcmagent");
        var dotnet = Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
        File.WriteAllText(launcher, $"#!/bin/sh\nexec {Quote(dotnet)} {Quote(agent)} \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(launcher, (UnixFileMode)0b111_101_101);
        }

        return launcher;
    }

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''") + "'";
}
