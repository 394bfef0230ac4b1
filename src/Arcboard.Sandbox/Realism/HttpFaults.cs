using System.Globalization;
using Arcboard.Sandbox.Fleet;

namespace Arcboard.Sandbox.Realism;

/// <summary>The faults the sandbox can inject at the HTTP level, by name as <c>/_sandbox/faults/http</c> and <c>--faults</c> take them.</summary>
public static class HttpFaultKinds
{
    /// <summary>ARM answers 500 InternalServerError or 503 ServiceUnavailable before the handler runs: nothing changes.</summary>
    public const string Arm5xx = "arm-5xx";

    /// <summary>An ARM PUT or PATCH is applied, then answered 500: the write happened though the caller saw a failure.</summary>
    public const string Arm5xxAfterWrite = "arm-5xx-after-write";

    /// <summary>ARM answers 429 TooManyRequests with Retry-After and x-ms-retry-after-ms (one second in the profile's clock).</summary>
    public const string Arm429 = "arm-429";

    /// <summary>ARM holds the request 100 s in the profile's clock (or until the client gives up), then answers 504.</summary>
    public const string ArmTimeout = "arm-timeout";

    /// <summary>ARM aborts the connection without an answer.</summary>
    public const string ArmDrop = "arm-drop";

    /// <summary>SSM answers 400 ThrottlingException "Rate exceeded".</summary>
    public const string SsmThrottling = "ssm-throttling";

    /// <summary>EC2 answers 503 RequestLimitExceeded.</summary>
    public const string Ec2Throttling = "ec2-throttling";

    /// <summary>STS answers 503 ServiceUnavailable.</summary>
    public const string Sts5xx = "sts-5xx";

    /// <summary>The identity service refuses a challenge or proof: 403 IdentityRefused (the agent exits 41).</summary>
    public const string IdentityRefusal = "identity-refusal";

    /// <summary>The identity service answers 503 ServiceUnavailable (the agent exits 26).</summary>
    public const string Identity5xx = "identity-5xx";

    public static IReadOnlyList<string> All { get; } =
        [Arm5xx, Arm5xxAfterWrite, Arm429, ArmTimeout, ArmDrop, SsmThrottling, Ec2Throttling, Sts5xx, IdentityRefusal, Identity5xx];

    /// <summary>Null when known; otherwise a one-line error naming the kinds there are.</summary>
    public static string? Check(string kind) =>
        All.Contains(kind, StringComparer.Ordinal) ? null : $"unknown fault kind '{kind}'; use one of {string.Join(", ", All)}.";
}

/// <summary>One fault kind's setting: a rate applied to every eligible request, and a number of cued ones to inject first.</summary>
public sealed record HttpFaultSetting(string Kind, double Rate, int Pending);

/// <summary>
/// HTTP faults by rate or on cue, with seeded randomness so a run can be repeated. A cued fault (<see cref="Next"/>)
/// fires on the next eligible requests before any rate is rolled.
/// </summary>
public sealed class HttpFaults(int seed)
{
    private readonly Lock _gate = new();
    private readonly Random _random = new(seed);
    private readonly Dictionary<string, double> _rates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _pending = new(StringComparer.Ordinal);

    /// <summary>Injects <paramref name="kind"/> into that fraction (0..1) of eligible requests; 0 stops it.</summary>
    public void Set(string kind, double rate)
    {
        Validate(kind);
        if (!double.IsFinite(rate) || rate is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "A fault rate is a fraction between 0 and 1.");
        }

        lock (_gate)
        {
            if (rate == 0)
            {
                _rates.Remove(kind);
            }
            else
            {
                _rates[kind] = rate;
            }
        }
    }

    /// <summary>Injects <paramref name="kind"/> into the next <paramref name="count"/> eligible requests, on top of any already cued.</summary>
    public void Next(string kind, int count)
    {
        Validate(kind);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate)
        {
            _pending[kind] = _pending.GetValueOrDefault(kind) + count;
        }
    }

    /// <summary>Stops every fault.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _rates.Clear();
            _pending.Clear();
        }
    }

    public IReadOnlyList<HttpFaultSetting> Snapshot()
    {
        lock (_gate)
        {
            return _rates.Keys.Union(_pending.Where(p => p.Value > 0).Select(p => p.Key))
                .Order(StringComparer.Ordinal)
                .Select(k => new HttpFaultSetting(k, _rates.GetValueOrDefault(k), _pending.GetValueOrDefault(k)))
                .ToList();
        }
    }

    /// <summary>Whether this eligible request gets <paramref name="kind"/>; a true answer spends a cue. The caller counts it.</summary>
    public bool ShouldInject(string kind)
    {
        lock (_gate)
        {
            if (_pending.TryGetValue(kind, out var pending) && pending > 0)
            {
                _pending[kind] = pending - 1;
                return true;
            }

            return _rates.TryGetValue(kind, out var rate) && _random.NextDouble() < rate;
        }
    }

    /// <summary>A seeded choice among <paramref name="options"/>, for faults with more than one face (500 or 503).</summary>
    public T Pick<T>(params T[] options)
    {
        lock (_gate)
        {
            return options[_random.Next(options.Length)];
        }
    }

    /// <summary>Parses <c>arm-5xx=0.05,ssm-throttling=0.1</c> (the <c>--faults</c> option).</summary>
    /// <exception cref="SandboxConfigurationException">A malformed entry, an unknown kind or a rate outside 0..1.</exception>
    public static IReadOnlyList<(string Kind, double Rate)> ParseRates(string spec)
    {
        var result = new List<(string, double)>();
        foreach (var entry in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = entry.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var rate))
            {
                throw new SandboxConfigurationException($"--faults: '{entry}' is not KIND=RATE; write for example arm-5xx=0.05,ssm-throttling=0.1.");
            }

            if (HttpFaultKinds.Check(parts[0]) is { } error)
            {
                throw new SandboxConfigurationException("--faults: " + error);
            }

            if (!double.IsFinite(rate) || rate is < 0 or > 1)
            {
                throw new SandboxConfigurationException($"--faults: the rate of {parts[0]} must be between 0 and 1, not {parts[1]}.");
            }

            result.Add((parts[0], rate));
        }

        return result;
    }

    private static void Validate(string kind)
    {
        if (HttpFaultKinds.Check(kind) is { } error)
        {
            throw new ArgumentException(error, nameof(kind));
        }
    }
}
