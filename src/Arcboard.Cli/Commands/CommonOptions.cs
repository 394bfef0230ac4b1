using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace Arcboard.Cli.Commands;

/// <summary>Options several commands share, defined once so they read the same everywhere.</summary>
internal static class CommonOptions
{
    public static Option<FileInfo> Config() => new("--config", "-c")
    {
        Description = "The Arcboard configuration file (JSON; see the README).",
        Required = true,
    };

    public static Option<OutputFormat> Output()
    {
        var option = new Option<OutputFormat>("--output", "-o")
        {
            Description = "text (a table for people) or json (one document on stdout, for machines).",
            DefaultValueFactory = _ => OutputFormat.Text,
            CustomParser = result =>
            {
                var token = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                if (Enum.TryParse<OutputFormat>(token, ignoreCase: true, out var format) && Enum.IsDefined(format) && !int.TryParse(token, out _))
                {
                    return format;
                }

                result.AddError($"--output must be text or json, not '{token}'.");
                return OutputFormat.Text;
            },
        };
        option.HelpName = "text|json";
        return option;
    }

    public static Option<LogLevel> LogLevel() => new Option<LogLevel>("--log-level")
    {
        Description = "Logs on stderr from this level up: Trace, Debug, Information, Warning, Error, None.",
        DefaultValueFactory = _ => Microsoft.Extensions.Logging.LogLevel.Warning,
    }.OneOf(Microsoft.Extensions.Logging.LogLevel.Warning, Enum.GetValues<LogLevel>().Where(l => l != Microsoft.Extensions.Logging.LogLevel.Critical).ToArray());
}

internal static class OptionRanges
{
    /// <summary>
    /// Accepts one of <paramref name="allowed"/> by name, ignoring case, and refuses anything else in one line that lists
    /// them (the parser's own error would name a .NET type and span several lines).
    /// </summary>
    public static Option<T> OneOf<T>(this Option<T> option, T fallback, params T[] allowed)
        where T : struct, Enum
    {
        var names = string.Join(", ", allowed.Select(a => a.ToString().ToLowerInvariant()));
        option.CustomParser = result =>
        {
            var token = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (Enum.TryParse<T>(token, ignoreCase: true, out var value) && allowed.Contains(value) && !int.TryParse(token, out _))
            {
                return value;
            }

            result.AddError($"{option.Name} must be one of {names}, not '{token}'.");
            return fallback;
        };
        option.HelpName = string.Join('|', allowed.Select(a => a.ToString().ToLowerInvariant()));
        return option;
    }

    /// <summary>Refuses anything but a finite number above zero, in one line.</summary>
    public static Option<double?> Positive(this Option<double?> option)
    {
        option.CustomParser = result =>
        {
            var token = result.Tokens.Count == 1 ? result.Tokens[0].Value : null;
            if (double.TryParse(token, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value > 0)
            {
                return value;
            }

            result.AddError($"{option.Name} must be a number greater than 0, not '{token}'.");
            return null;
        };
        return option;
    }

    /// <summary>
    /// Refuses values outside [min, max]. Reads the raw token, since a value that is not a number at all already has
    /// its own parse error and asking for it again would throw.
    /// </summary>
    public static Option<int> InRange(this Option<int> option, int min, int max)
    {
        var fallback = option.DefaultValueFactory;
        option.CustomParser = result =>
        {
            var token = result.Tokens.Count == 1 ? result.Tokens[0].Value : null;
            if (int.TryParse(token, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }

            result.AddError($"{option.Name} must be a whole number between {min} and {max}, not '{token}'.");
            return min;
        };
        option.DefaultValueFactory = fallback;
        return option;
    }
}

public enum OutputFormat
{
    Text,
    Json,
}
