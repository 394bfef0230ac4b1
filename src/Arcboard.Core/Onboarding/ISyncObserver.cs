using Arcboard.Core.Fleet;

namespace Arcboard.Core.Onboarding;

/// <summary>Hears about a pass while it runs, to show progress. Called from several threads at once.</summary>
public interface ISyncObserver
{
    /// <summary>The pass begins; every one of <paramref name="scopes"/> will be either listed or reported failed.</summary>
    void PassStarted(IReadOnlyList<AwsScope> scopes)
    {
    }

    void ScopeListed(AwsScope scope, int instances, int eligible);

    void StepStarted(AwsScope scope, OnboardingStep step, int instances);

    /// <summary>One instance got through <paramref name="step"/> (genkey, create-machine or connect) and moves on.</summary>
    void StepProgress(AwsScope scope, OnboardingStep step)
    {
    }

    void InstanceFinished(InstanceReport report);

    void ScopeFailed(ScopeError error);
}

public sealed class NullSyncObserver : ISyncObserver
{
    public static readonly NullSyncObserver Instance = new();

    public void ScopeListed(AwsScope scope, int instances, int eligible)
    {
    }

    public void StepStarted(AwsScope scope, OnboardingStep step, int instances)
    {
    }

    public void InstanceFinished(InstanceReport report)
    {
    }

    public void ScopeFailed(ScopeError error)
    {
    }
}

/// <summary>The steps of the flow, as a person reads them in reports.</summary>
public enum OnboardingStep
{
    Discover,
    Genkey,
    CreateMachine,
    Connect,
    Verify,
}

public static class OnboardingStepNames
{
    public static string Name(this OnboardingStep step) => step switch
    {
        OnboardingStep.Discover => "discover",
        OnboardingStep.Genkey => "genkey",
        OnboardingStep.CreateMachine => "create-machine",
        OnboardingStep.Connect => "connect",
        OnboardingStep.Verify => "verify",
        _ => step.ToString(),
    };
}
