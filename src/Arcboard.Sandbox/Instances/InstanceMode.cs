namespace Arcboard.Sandbox.Instances;

/// <summary>How instances run the scripts they are sent.</summary>
public enum InstanceMode
{
    /// <summary>For real: <c>/bin/sh</c> for Linux, hosted PowerShell for Windows, <c>azcmagent</c> as a process. For correctness.</summary>
    Process,

    /// <summary>A model of Arcboard's two scripts with the agent in-process: tens of thousands of instances on one machine.</summary>
    Modelled,
}

/// <summary>
/// How long instances take, applied with the sandbox's TimeProvider (never by blocking a thread). <see cref="Delivery"/>
/// keeps an invocation Pending (both modes); the others apply in modelled mode: <see cref="ScriptRun"/> once per script,
/// <see cref="Genkey"/> and <see cref="Connect"/> around those agent commands.
/// </summary>
public sealed record InstanceLatencies(TimeSpan Delivery, TimeSpan ScriptRun, TimeSpan Genkey, TimeSpan Connect)
{
    public static InstanceLatencies Zero { get; } = new(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
}

/// <summary>Runs one script on one instance: for real (<see cref="InstanceRunner"/>) or as a model (<see cref="ModelledInstanceRunner"/>).</summary>
public interface IScriptRunner : IDisposable
{
    /// <summary>What this runner simulates instead of running it for real, in words; empty when everything is real.</summary>
    IReadOnlyList<string> Modelled { get; }

    /// <summary>Runs one script; <paramref name="started"/> is called once it leaves the queue and really starts.</summary>
    Task<ScriptResult> RunAsync(ScriptRequest request, Action started, CancellationToken cancellationToken);
}
