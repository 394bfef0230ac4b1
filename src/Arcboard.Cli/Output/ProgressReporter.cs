using Arcboard.Core.Fleet;
using Arcboard.Core.Onboarding;
using Arcboard.Core.State;

namespace Arcboard.Cli.Output;

/// <summary>
/// Progress for a person, on stderr so that stdout stays clean for <c>--output json</c>: each account and region as it is
/// listed, then one status line with the count through each step, the rate of verdicts per minute and the time left at
/// that rate. The status line is written at most every <see cref="QuietInterval"/> when stderr is a file or a pipe
/// (every <see cref="InteractiveInterval"/> on a terminal), so a fleet of thousands does not flood a log. While a pass is
/// under way (accounts and regions still being listed, or instances without a verdict) and nothing has been written for
/// <see cref="HeartbeatInterval"/> (every instance left waiting on a slow command, say), the status line is written anyway, within one <see cref="QuietInterval"/> more, so a quiet pass is never
/// mistaken for a hung one.
/// </summary>
public sealed class ProgressReporter : ISyncObserver, IDisposable
{
    public static readonly TimeSpan QuietInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan InteractiveInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(30);

    /// <summary>Failures are named one by one up to this many; beyond it they are only counted (the report has them all).</summary>
    private const int FailuresNamed = 20;

    private readonly TextWriter _error;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly long _started;
    private readonly TimeSpan _interval;
    private readonly ITimer _heartbeat;
    private TimeSpan _lastLine = TimeSpan.MinValue;
    private TimeSpan _lastWrite;
    private bool _disposed;
    private int _scopes;
    private readonly HashSet<AwsScope> _scopesDone = [];
    private int _listed;
    private int _keys;
    private int _created;
    private int _connected;
    private int _finished;
    private int _onboarded;
    private int _failed;

    public ProgressReporter(TextWriter error, TimeProvider time, bool interactive = false)
    {
        _error = error;
        _time = time;
        _started = time.GetTimestamp();
        _interval = interactive ? InteractiveInterval : QuietInterval;
        // Checked as often as a status line may be written, so the silence before a heartbeat is never much over its interval.
        _heartbeat = time.CreateTimer(_ => Heartbeat(), null, QuietInterval, QuietInterval);
    }

    public void PassStarted(IReadOnlyList<AwsScope> scopes)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        lock (_lock)
        {
            _scopes = scopes.Count;
            Write($"listing {_scopes} account{(_scopes == 1 ? "" : "s")} and region{(_scopes == 1 ? "" : "s")}");
        }
    }

    public void ScopeListed(AwsScope scope, int instances, int eligible)
    {
        lock (_lock)
        {
            _scopesDone.Add(scope);
            _listed += instances;
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

    public void StepProgress(AwsScope scope, OnboardingStep step)
    {
        lock (_lock)
        {
            switch (step)
            {
                case OnboardingStep.Genkey:
                    _keys++;
                    break;
                case OnboardingStep.CreateMachine:
                    _created++;
                    break;
                case OnboardingStep.Connect:
                    _connected++;
                    break;
            }

            MaybeStatus();
        }
    }

    public void InstanceFinished(InstanceReport report)
    {
        lock (_lock)
        {
            // Every listed instance gets exactly one verdict, eligible or not, so the count ends at the total listed.
            _finished++;
            if (report.Outcome == Outcome.Onboarded)
            {
                _onboarded++;
            }
            else if (report.Outcome == Outcome.Failed)
            {
                _failed++;
                if (_failed <= FailuresNamed)
                {
                    Write($"{report.AccountId}/{report.Region}/{report.InstanceId}: failed at {report.FailedStep}: {report.Reason}");
                }
                else if (_failed == FailuresNamed + 1)
                {
                    Write("more failures are counted below; the report lists every one");
                }
            }

            MaybeStatus(force: _finished == _listed);
        }
    }

    public void ScopeFailed(ScopeError error)
    {
        lock (_lock)
        {
            _scopesDone.Add(new AwsScope(error.AccountId, error.Region));
            Write($"{error.AccountId}/{error.Region}: {error.Reason}");
        }
    }

    public void Dispose()
    {
        _heartbeat.Dispose();
        lock (_lock)
        {
            // A heartbeat already under way when the timer stopped writes nothing after this.
            _disposed = true;
        }
    }

    private void Heartbeat()
    {
        lock (_lock)
        {
            var underWay = !_disposed && (Listing || (_listed > 0 && _finished < _listed));
            var elapsed = _time.GetElapsedTime(_started);
            if (underWay && elapsed - _lastWrite >= HeartbeatInterval)
            {
                // Not counted as a status line: the next event still writes one at once, with the news.
                Write(Status(elapsed));
            }
        }
    }

    private void MaybeStatus(bool force = false)
    {
        var elapsed = _time.GetElapsedTime(_started);
        if (!force && _lastLine != TimeSpan.MinValue && elapsed - _lastLine < _interval)
        {
            return;
        }

        _lastLine = elapsed;
        Write(Status(elapsed));
    }

    private bool Listing => _scopesDone.Count < _scopes;

    private string Status(TimeSpan elapsed) =>
        $"genkey {_keys}, created {_created}, connected {_connected}, done {_finished}/{_listed} (onboarded {_onboarded}, failed {_failed}); {Rate(elapsed)}"
        + (Listing ? $"; {_scopesDone.Count} of {_scopes} accounts and regions listed" : "");

    private string Rate(TimeSpan elapsed)
    {
        // An instance whose agent reported Connected has done its work; ARM confirms the whole account and region at the
        // end, so counting only final verdicts would show no rate until the very end of a large pass.
        var done = _finished - _onboarded + _connected;
        if (elapsed.TotalSeconds < 1 || done <= 0)
        {
            return "rate not known yet";
        }

        var perMinute = done / elapsed.TotalMinutes;
        var left = Math.Max(0, _listed - done);
        var eta = TimeSpan.FromMinutes(left / perMinute);
        return left == 0 ? $"{perMinute:0.#}/min" : $"{perMinute:0.#}/min, about {eta:hh\\:mm\\:ss} left";
    }

    private void Write(string line)
    {
        var elapsed = _time.GetElapsedTime(_started);
        _lastWrite = elapsed;
        _error.WriteLine($"[{elapsed:hh\\:mm\\:ss}] {line}");
        _error.Flush();
    }
}
