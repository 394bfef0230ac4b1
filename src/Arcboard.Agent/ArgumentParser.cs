namespace Arcboard.Agent;

/// <summary>One option a command accepts: its long name, short aliases and whether it takes a value.</summary>
internal sealed record OptionSpec(string Name, bool TakesValue, params string[] Aliases);

/// <summary>
/// Hand-rolled parsing: the agent starts once per Run Command and must start fast, so no parsing library.
/// Accepts <c>--flag value</c>, <c>--flag=value</c> and short aliases (<c>-g value</c>).
/// </summary>
internal sealed class ParsedArguments
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    public List<string> Positionals { get; } = [];

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.TryGetValue(name, out var value) ? value : null;

    public static ParsedArguments Parse(IReadOnlyList<string> args, IReadOnlyList<OptionSpec> options)
    {
        var byToken = new Dictionary<string, OptionSpec>(StringComparer.Ordinal);
        foreach (var option in options)
        {
            byToken["--" + option.Name] = option;
            foreach (var alias in option.Aliases)
            {
                byToken[alias] = option;
            }
        }

        var result = new ParsedArguments();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-') || arg == "-")
            {
                result.Positionals.Add(arg);
                continue;
            }

            string token = arg;
            string? inlineValue = null;
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                token = arg[..equals];
                inlineValue = arg[(equals + 1)..];
            }

            if (!byToken.TryGetValue(token, out var spec))
            {
                throw new AgentException(ExitCodes.InvalidArgument, $"Unknown flag: {token}");
            }

            if (result._values.ContainsKey(spec.Name))
            {
                throw new AgentException(ExitCodes.InvalidArgument, $"Flag --{spec.Name} given more than once.");
            }

            if (!spec.TakesValue)
            {
                if (inlineValue is null || inlineValue.Equals("true", StringComparison.OrdinalIgnoreCase))
                {
                    result._values[spec.Name] = "true";
                }
                else if (!inlineValue.Equals("false", StringComparison.OrdinalIgnoreCase))
                {
                    throw new AgentException(ExitCodes.InvalidArgument, $"Flag --{spec.Name} takes no value.");
                }

                continue;
            }

            if (inlineValue is null)
            {
                if (i + 1 >= args.Count || (args[i + 1].StartsWith("--", StringComparison.Ordinal) && args[i + 1].Length > 2))
                {
                    throw new AgentException(ExitCodes.MissingParameter, $"Flag --{spec.Name} needs a value.");
                }

                inlineValue = args[++i];
            }

            result._values[spec.Name] = inlineValue;
        }

        return result;
    }
}
