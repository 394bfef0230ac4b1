using System.CommandLine;
using System.Runtime.InteropServices;
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
            OffboardCommand.Create(console),
            StatusCommand.Create(console),
            DemoCommand.Create(console),
            SandboxCommand.Create(console),
        };
    }

    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(console);
        try
        {
            var parse = Build(console).Parse(args);
            if (parse.Errors.Count > 0)
            {
                // Usage errors go to stderr alone: stdout is for results, and a wall of help hides the one line that matters.
                foreach (var error in parse.Errors)
                {
                    await console.Error.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
                }

                await console.Error.WriteLineAsync($"Run '{CommandPath(parse)} --help' for usage.").ConfigureAwait(false);
                return ExitCodes.UsageOrConfiguration;
            }

            // Ctrl+C and SIGTERM cancel the command, which then records where it stopped and exits with 130.
            // Hosts inside a command (the sandbox's web server) register their own handlers; ours still runs.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => Stop(context, stop));
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Stop(context, stop));
            var configuration = new InvocationConfiguration
            {
                Output = console.Out,
                Error = console.Error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            };
            return await parse.InvokeAsync(configuration, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await console.Error.WriteLineAsync("Stopped.").ConfigureAwait(false);
            return ExitCodes.Cancelled;
        }
        catch (Exception error)
        {
            // Anything unforeseen still gets one readable line; the stack trace is of no use to an operator.
            await console.Error.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrConfiguration;
        }
    }

    private static void Stop(PosixSignalContext context, CancellationTokenSource stop)
    {
        context.Cancel = true;
        stop.Cancel();
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Command.Name);
        }

        names[0] = "arcboard";
        return string.Join(' ', names);
    }
}
