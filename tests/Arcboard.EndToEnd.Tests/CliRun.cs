using System.Diagnostics;
using Arcboard.Cli;

namespace Arcboard.EndToEnd.Tests;

/// <summary>What one run of <c>arcboard</c> printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Out, string Error);

/// <summary>Runs the <c>arcboard</c> CLI, in-process through its console seam, or as a real process that a test can kill.</summary>
public static class CliRun
{
    public static async Task<CliResult> InProcessAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await ArcboardCli.RunAsync(args, new CliConsole(output, error));
        return new CliResult(code, output.ToString(), error.ToString());
    }

    /// <summary>Starts <c>dotnet arcboard.dll ARGS</c> (the build output copied next to the tests) with stdout and stderr captured.</summary>
    public static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "arcboard.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("could not start arcboard");
    }
}
