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

    public static Option<OutputFormat> Output() => new("--output", "-o")
    {
        Description = "text (a table for people) or json (one document on stdout, for machines).",
        DefaultValueFactory = _ => OutputFormat.Text,
    };

    public static Option<LogLevel> LogLevel() => new("--log-level")
    {
        Description = "Logs on stderr from this level up: Trace, Debug, Information, Warning, Error, None.",
        DefaultValueFactory = _ => Microsoft.Extensions.Logging.LogLevel.Warning,
    };
}

public enum OutputFormat
{
    Text,
    Json,
}
