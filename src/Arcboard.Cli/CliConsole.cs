namespace Arcboard.Cli;

/// <summary>
/// The CLI's only way out: stdout for results (a table, or JSON with <c>--output json</c>), stderr for progress,
/// logs and errors. Tests pass string writers to run commands in-process.
/// </summary>
public sealed record CliConsole(TextWriter Out, TextWriter Error)
{
    public static CliConsole System { get; } = new(global::System.Console.Out, global::System.Console.Error);
}
