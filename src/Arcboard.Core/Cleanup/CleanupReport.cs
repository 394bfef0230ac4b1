using Arcboard.Core.Onboarding;

namespace Arcboard.Core.Cleanup;

/// <summary>What became of one machine Arcboard created (or was asked to remove).</summary>
public enum RemovalAction
{
    /// <summary>Deleted in ARM by this run.</summary>
    Deleted,

    /// <summary>The machine was already gone from ARM; the record now says so.</summary>
    AlreadyGone,

    /// <summary>Dry run: this machine would be deleted.</summary>
    WouldDelete,

    /// <summary>The machine lacks Arcboard's tags for this instance, so it was left as it is.</summary>
    NotOurs,

    /// <summary>Offboarding found no machine Arcboard created for the instance.</summary>
    NoMachine,

    /// <summary>The machine could not be deleted; the reason says why and the next run tries again.</summary>
    Failed,
}

/// <summary>What was done, or would be done, with the instance's Azure Connected Machine agent.</summary>
public enum AgentAction
{
    /// <summary>Clean-up of terminated or stopped instances does not talk to the agent.</summary>
    None,

    /// <summary><c>azcmagent disconnect --force-local-only</c> ran and succeeded.</summary>
    Disconnected,

    /// <summary>Dry run: the agent would be told to disconnect.</summary>
    WouldDisconnect,

    /// <summary>The instance is not running with SSM online, so the agent could not be told.</summary>
    Unreachable,

    /// <summary>The agent was not connected to this machine (not connected at all, connected elsewhere, or not installed), so it was left alone.</summary>
    NotConnectedHere,

    /// <summary>The disconnect command failed; the reason says why.</summary>
    Failed,
}

public sealed record MachineRemoval(
    string AccountId,
    string Region,
    string InstanceId,
    string? ResourceId,
    RemovalAction Action,
    AgentAction Agent,
    string Reason);

/// <summary>The result of one clean-up or offboarding run: one entry per machine acted on, and the scopes that could not be worked on.</summary>
public sealed record CleanupReport(IReadOnlyList<MachineRemoval> Machines, IReadOnlyList<ScopeError> Errors)
{
    public static CleanupReport Empty { get; } = new([], []);

    public int Count(RemovalAction action) => Machines.Count(m => m.Action == action);

    /// <summary>True when every scope was listed and no deletion or disconnect failed.</summary>
    public bool Succeeded => Errors.Count == 0 && Machines.All(m => m.Action != RemovalAction.Failed && m.Agent != AgentAction.Failed);
}

/// <summary>Hears about clean-up while it runs, to show progress. Called from several threads at once.</summary>
public interface ICleanupObserver
{
    void StepStarted(string scope, string step, int machines);

    void MachineFinished(MachineRemoval removal);

    void ScopeFailed(ScopeError error);
}

public sealed class NullCleanupObserver : ICleanupObserver
{
    public static readonly NullCleanupObserver Instance = new();

    public void StepStarted(string scope, string step, int machines)
    {
    }

    public void MachineFinished(MachineRemoval removal)
    {
    }

    public void ScopeFailed(ScopeError error)
    {
    }
}
