using Arcboard.Core.Fleet;
using Arcboard.Core.State;

namespace Arcboard.Core.Onboarding;

/// <summary>One instance's verdict for one pass.</summary>
public sealed record InstanceReport(
    string AccountId,
    string Region,
    string InstanceId,
    Platform Platform,
    Outcome Outcome,
    string Reason,
    string? AzureResourceId,
    string? FailedStep);

/// <summary>A whole account and region that could not be worked on (for example, its listing failed).</summary>
public sealed record ScopeError(string AccountId, string Region, string Reason);

public sealed record SyncReport(IReadOnlyList<InstanceReport> Instances, IReadOnlyList<ScopeError> Errors)
{
    public int Count(Outcome outcome) => Instances.Count(i => i.Outcome == outcome);

    /// <summary>True when every eligible instance is connected and every scope was listed.</summary>
    public bool Succeeded => Errors.Count == 0 && Instances.All(i => i.Outcome != Outcome.Failed);
}
