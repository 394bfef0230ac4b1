using System.Globalization;

namespace Arcboard.Sandbox.Instances;

/// <summary>What can go wrong on an instance or in Run Command's delivery, as seen by whoever sent the command.</summary>
public enum InstanceFaultKind
{
    /// <summary>The script exits 1 with a line on standard error, without running.</summary>
    CommandFail,

    /// <summary>The script never finishes: InProgress until the command's executionTimeout, then TimedOut (ExecutionTimedOut).</summary>
    CommandHang,

    /// <summary>Never delivered: Pending until the command's TimeoutSeconds, then TimedOut (DeliveryTimedOut).</summary>
    DeliveryTimeout,

    /// <summary>The invocation runs, but GetCommandInvocation and ListCommandInvocations do not show it for the rule's duration.</summary>
    InvocationMissing,

    /// <summary>The script runs; its standard output is cut to half its length (mid-line, no final newline).</summary>
    OutputTruncated,

    /// <summary>The script runs; every value after each line's first word is replaced with random characters.</summary>
    OutputGarbage,

    /// <summary>The instance stops before delivery: the invocation stays Pending until TimeoutSeconds, then TimedOut (DeliveryTimedOut).</summary>
    InstanceStop,

    /// <summary>The instance is terminated before delivery: the invocation fails as Undeliverable.</summary>
    InstanceTerminate,

    /// <summary>The SSM agent loses its connection mid-command (PingStatus ConnectionLost): InProgress until executionTimeout, then TimedOut.</summary>
    SsmLost,

    /// <summary>The instance reboots mid-command: the script's effects stay (key files included), its output is lost, the invocation fails.</summary>
    InstanceReboot,
}

/// <summary>
/// One fault rule: either a <see cref="Rate"/> (each invocation gets it with that probability) or a <see cref="Count"/>
/// (the next N invocations get it, "on cue"), limited to <see cref="InstanceIds"/> when given.
/// <see cref="Duration"/> is how long <see cref="InstanceFaultKind.InvocationMissing"/> hides an invocation (default 15 minutes)
/// and how long <see cref="InstanceFaultKind.InstanceReboot"/> keeps the instance's SSM agent offline (default 30 s).
/// </summary>
public sealed record InstanceFaultRule(InstanceFaultKind Kind, double Rate = 0, int Count = 0, IReadOnlyList<string>? InstanceIds = null, TimeSpan? Duration = null)
{
    public static readonly TimeSpan DefaultMissingDuration = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan DefaultRebootDuration = TimeSpan.FromSeconds(30);

    public TimeSpan EffectiveDuration => Duration ?? (Kind == InstanceFaultKind.InstanceReboot ? DefaultRebootDuration : DefaultMissingDuration);

    /// <summary>Every problem with the rule, one line each; empty when it can be used.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!Enum.IsDefined(Kind))
        {
            problems.Add($"kind: unknown; use one of {string.Join(", ", InstanceFaults.KindNames)}.");
        }

        if (double.IsNaN(Rate) || Rate is < 0 or > 1)
        {
            problems.Add("rate: must be from 0 to 1.");
        }

        if (Count < 0)
        {
            problems.Add("count: must be 0 or more.");
        }

        if ((Rate > 0) == (Count > 0))
        {
            problems.Add("give either rate (0 < rate <= 1) or count (> 0), not both and not neither.");
        }

        if (Duration is { } duration && duration <= TimeSpan.Zero)
        {
            problems.Add("durationSeconds: must be more than 0.");
        }

        return problems;
    }
}

/// <summary>An active rule and how many cued invocations it still has.</summary>
public sealed record ActiveInstanceFault(InstanceFaultRule Rule, int Remaining);

/// <summary>
/// The instance-level faults in force. Rules are drawn when SendCommand creates an invocation, in request order, from a
/// seeded random source: the same seed, rules and commands give the same faults.
/// </summary>
public sealed class InstanceFaults(int seed)
{
    private readonly Lock _lock = new();
    private readonly List<(InstanceFaultRule Rule, int Remaining)> _rules = [];
    private Random _random = new(seed);

    public static IReadOnlyList<string> KindNames { get; } = [.. Enum.GetValues<InstanceFaultKind>().Select(ToWire)];

    public int Seed { get; private set; } = seed;

    public IReadOnlyList<ActiveInstanceFault> Active
    {
        get { lock (_lock) { return [.. _rules.Select(r => new ActiveInstanceFault(r.Rule, r.Remaining))]; } }
    }

    /// <summary>Adds a rule; throws <see cref="ArgumentException"/> listing every problem when it cannot be used.</summary>
    public void Add(InstanceFaultRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var problems = rule.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(rule));
        }

        lock (_lock)
        {
            _rules.Add((rule, rule.Count));
        }
    }

    /// <summary>Removes every rule; a seed restarts the random source so a run can be replayed.</summary>
    public void Clear(int? seed = null)
    {
        lock (_lock)
        {
            _rules.Clear();
            if (seed is { } value)
            {
                Seed = value;
                _random = new Random(value);
            }
        }
    }

    /// <summary>The fault, if any, for a new invocation on <paramref name="instanceId"/>. Cued rules come first, in the order added.</summary>
    public InstanceFaultRule? Draw(string instanceId)
    {
        lock (_lock)
        {
            if (_rules.Count == 0)
            {
                return null;
            }

            InstanceFaultRule? chosen = null;
            for (var i = 0; i < _rules.Count && chosen is null; i++)
            {
                var (rule, remaining) = _rules[i];
                if (remaining > 0 && Applies(rule, instanceId))
                {
                    _rules[i] = (rule, remaining - 1);
                    chosen = rule;
                }
            }

            // Every rate rule draws, whether or not a fault was already chosen, so one rule's outcome never shifts another's.
            foreach (var (rule, _) in _rules)
            {
                if (rule.Rate > 0 && Applies(rule, instanceId) && _random.NextDouble() < rule.Rate)
                {
                    chosen ??= rule;
                }
            }

            _rules.RemoveAll(r => r.Rule.Count > 0 && r.Remaining == 0);
            return chosen;
        }
    }

    /// <summary>A random number from the seeded source, for faults that need one (garbage output).</summary>
    internal int NextRandom()
    {
        lock (_lock)
        {
            return _random.Next();
        }
    }

    public static string ToWire(InstanceFaultKind kind) => kind switch
    {
        InstanceFaultKind.CommandFail => "command-fail",
        InstanceFaultKind.CommandHang => "command-hang",
        InstanceFaultKind.DeliveryTimeout => "delivery-timeout",
        InstanceFaultKind.InvocationMissing => "invocation-missing",
        InstanceFaultKind.OutputTruncated => "output-truncated",
        InstanceFaultKind.OutputGarbage => "output-garbage",
        InstanceFaultKind.InstanceStop => "instance-stop",
        InstanceFaultKind.InstanceTerminate => "instance-terminate",
        InstanceFaultKind.SsmLost => "ssm-lost",
        InstanceFaultKind.InstanceReboot => "instance-reboot",
        _ => kind.ToString(),
    };

    public static bool TryParse(string? wire, out InstanceFaultKind kind)
    {
        foreach (var candidate in Enum.GetValues<InstanceFaultKind>())
        {
            if (string.Equals(ToWire(candidate), wire, StringComparison.Ordinal))
            {
                kind = candidate;
                return true;
            }
        }

        kind = default;
        return false;
    }

    private static bool Applies(InstanceFaultRule rule, string instanceId) =>
        rule.InstanceIds is not { Count: > 0 } ids || ids.Contains(instanceId, StringComparer.Ordinal);

    internal static string Describe(InstanceFaultRule rule) =>
        rule.Count > 0 ? $"{ToWire(rule.Kind)} x{rule.Count}" : $"{ToWire(rule.Kind)} at {rule.Rate.ToString(CultureInfo.InvariantCulture)}";
}
