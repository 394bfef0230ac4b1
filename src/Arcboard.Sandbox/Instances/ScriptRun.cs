using Arcboard.Sandbox.Fleet;

namespace Arcboard.Sandbox.Instances;

/// <summary>One script for one instance, as the SSM agent receives it.</summary>
public sealed record ScriptRequest(SandboxInstance Instance, string CommandId, string Script, TimeSpan Timeout, string? WorkingDirectory);

public enum ScriptOutcome
{
    Completed,
    TimedOut,
    Cancelled,
}

/// <summary>What a script did. <see cref="ExitCode"/> is -1 when it did not complete.</summary>
public sealed record ScriptResult(ScriptOutcome Outcome, int ExitCode, string StandardOutput, string StandardError);

/// <summary>What every instance's scripts see besides their own ids (docs/contracts.md section 3).</summary>
public sealed record InstanceEnvironment(string IdentityEndpoint, string CaCertificatePath, string AgentBinDirectory);
