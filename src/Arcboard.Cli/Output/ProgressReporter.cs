using Arcboard.Core.Fleet;
using Arcboard.Core.Onboarding;
using Arcboard.Core.State;

namespace Arcboard.Cli.Output;

/// <summary>
/// Progress for a person, on stderr so that stdout stays clean for <c>--output json</c>: what each account and region
/// is doing, and a running count of verdicts.
/// </summary>
public sealed class ProgressReporter(TextWriter error, TimeProvider time) : ISyncObserver
{
    private readonly Lock _lock = new();
    private readonly long _started = time.GetTimestamp();
    private int _finished;
    private int _eligible;
    private int _onboarded;
    private int _failed;

    public void ScopeListed(AwsScope scope, int instances, int eligible)
    {
        lock (_lock)
        {
            _eligible += eligible;
            Write($"{scope}: {instances} instances, {eligible} eligible");
        }
    }

    public void StepStarted(AwsScope scope, OnboardingStep step, int instances)
    {
        lock (_lock)
        {
            Write($"{scope}: {step.Name()} for {instances} instance{(instances == 1 ? "" : "s")}");
        }
    }

    public void InstanceFinished(InstanceReport report)
    {
        lock (_lock)
        {
            _finished++;
            if (report.Outcome == Outcome.Onboarded)
            {
                _onboarded++;
                Write($"{report.AccountId}/{report.Region}/{report.InstanceId}: onboarded ({_onboarded} so far, {Rate()})");
            }
            else if (report.Outcome == Outcome.Failed)
            {
                _failed++;
                Write($"{report.AccountId}/{report.Region}/{report.InstanceId}: failed at {report.FailedStep}: {report.Reason}");
            }
        }
    }

    public void ScopeFailed(ScopeError error)
    {
        lock (_lock)
        {
            Write($"{error.AccountId}/{error.Region}: {error.Reason}");
        }
    }

    private string Rate()
    {
        var seconds = time.GetElapsedTime(_started).TotalSeconds;
        return seconds < 1 ? $"{_onboarded} in <1 s" : $"{_onboarded / seconds * 60:0.#}/min";
    }

    private void Write(string line)
    {
        var elapsed = time.GetElapsedTime(_started);
        error.WriteLine($"[{elapsed:mm\\:ss}] {line}");
        error.Flush();
    }
}
