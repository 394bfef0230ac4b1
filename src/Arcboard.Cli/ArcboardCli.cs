using System.CommandLine;
using Arcboard.Cli.Commands;

namespace Arcboard.Cli;

/// <summary>The <c>arcboard</c> command line, runnable in-process with any pair of writers.</summary>
public static class ArcboardCli
{
    public static RootCommand Build(CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        return new RootCommand("Arcboard: onboard AWS EC2 instances to Azure Arc, with no credential on any machine.")
        {
            SyncCommand.Create(console),
            StatusCommand.Create(console),
            DemoCommand.Create(console),
            SandboxCommand.Create(console),
        };
    }

    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(console);
        var parse = Build(console).Parse(args);
        var configuration = new InvocationConfiguration { Output = console.Out, Error = console.Error, EnableDefaultExceptionHandler = false };
        try
        {
            return await parse.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // Anything unforeseen still gets one readable line; the stack trace is of no use to an operator.
            await console.Error.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrConfiguration;
        }
    }
}
