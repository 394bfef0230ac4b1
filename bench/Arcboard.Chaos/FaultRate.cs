namespace Arcboard.Chaos;

/// <summary>One kind of fault the sandbox injects, and the share of eligible calls or commands it hits (0..1).</summary>
public sealed record FaultRate(string Kind, double Rate)
{
    /// <summary>Faults on the wire (the realism knobs), answered by <c>POST /_sandbox/faults/http</c>.</summary>
    public static readonly IReadOnlySet<string> HttpKinds = new HashSet<string>(StringComparer.Ordinal)
    {
        "arm-5xx", "arm-5xx-after-write", "arm-429", "arm-timeout", "arm-drop", "ssm-throttling", "ec2-throttling", "sts-5xx",
        "identity-refusal", "identity-5xx",
    };

    /// <summary>Faults on the instances themselves, answered by <c>POST /_sandbox/faults/instances</c>.</summary>
    public static readonly IReadOnlySet<string> InstanceKinds = new HashSet<string>(StringComparer.Ordinal)
    {
        "command-fail", "command-hang", "delivery-timeout", "invocation-missing", "output-truncated", "output-garbage",
        "instance-stop", "instance-terminate", "ssm-lost", "instance-reboot",
    };

    /// <summary>
    /// About one call in ten fails transiently (the issue's bar: with 10% of calls failing transiently every eligible
    /// instance still onboards), plus a few instance faults, rare enough that a run still has instances to onboard.
    /// </summary>
    public static IReadOnlyList<FaultRate> DefaultMix { get; } =
    [
        new("arm-5xx", 0.02),
        new("arm-5xx-after-write", 0.01),
        new("arm-429", 0.02),
        new("arm-timeout", 0.005),
        new("arm-drop", 0.01),
        new("ssm-throttling", 0.02),
        new("ec2-throttling", 0.01),
        new("sts-5xx", 0.005),
        new("identity-refusal", 0.005),
        new("identity-5xx", 0.005),
        new("command-fail", 0.01),
        new("command-hang", 0.003),
        new("delivery-timeout", 0.003),
        new("invocation-missing", 0.005),
        new("output-truncated", 0.005),
        new("output-garbage", 0.005),
        new("instance-reboot", 0.003),
        new("ssm-lost", 0.002),
        new("instance-stop", 0.002),
        new("instance-terminate", 0.002),
    ];

    public bool IsHttp => HttpKinds.Contains(Kind);

    /// <summary>Parses <c>kind=rate,kind=rate</c>; <c>none</c> means no fault at all.</summary>
    public static IReadOnlyList<FaultRate> ParseList(string text)
    {
        if (text.Trim() is "none" or "")
        {
            return [];
        }

        var faults = new List<FaultRate>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pieces = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (pieces.Length != 2 || !double.TryParse(pieces[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var rate) || rate is < 0 or > 1)
            {
                throw new ArgumentException($"--faults: '{part}' is not kind=rate with a rate between 0 and 1 (for example arm-5xx=0.02).");
            }

            if (!HttpKinds.Contains(pieces[0]) && !InstanceKinds.Contains(pieces[0]))
            {
                throw new ArgumentException($"--faults: unknown kind '{pieces[0]}'; known kinds: {string.Join(", ", HttpKinds.Concat(InstanceKinds))}.");
            }

            faults.Add(new FaultRate(pieces[0], rate));
        }

        return faults;
    }
}
