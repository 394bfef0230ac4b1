using System.CommandLine;
using Arcboard.Cli.Composition;
using Arcboard.Cli.Output;
using Arcboard.Core.Configuration;
using Arcboard.Core.Onboarding;
using Arcboard.Store;
using Microsoft.Extensions.Logging;

namespace Arcboard.Cli.Commands;

/// <summary><c>arcboard sync</c>: one reconciliation pass over every configured account and region.</summary>
internal static class SyncCommand
{
    public static Command Create(CliConsole console)
    {
        var config = CommonOptions.Config();
        var output = CommonOptions.Output();
        var logLevel = CommonOptions.LogLevel();
        var command = new Command("sync", "Onboard every eligible EC2 instance of the configured accounts and regions to Azure Arc, once.")
        {
            config,
            output,
            logLevel,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var options = ConnectorSession.LoadConfig(parse.GetRequiredValue(config), console);
            return options is null
                ? Task.FromResult(ExitCodes.UsageOrConfiguration)
                : RunAsync(options, parse.GetValue(output), parse.GetValue(logLevel), console, cancellationToken);
        });
        return command;
    }

    public static async Task<int> RunAsync(ArcboardOptions options, OutputFormat output, LogLevel logLevel, CliConsole console, CancellationToken cancellationToken)
    {
        using var loggers = ConnectorSession.Loggers(console, logLevel);
        Connector connector;
        try
        {
            connector = await Connector.CreateAsync(options, loggers, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException error)
        {
            return ConnectorSession.StoreProblem(error, console);
        }

        await using (connector.ConfigureAwait(false))
        {
            SyncReport report;
            try
            {
                report = await connector.Reconciler.SyncAsync(
                    OnboardingPolicies.Scopes(options),
                    new ProgressReporter(console.Error, TimeProvider.System),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                console.Error.WriteLine("Stopped. Every step taken is recorded; run sync again to resume.");
                return ExitCodes.Cancelled;
            }

            if (output == OutputFormat.Json)
            {
                await console.Out.WriteLineAsync(ReportJson.Sync(report)).ConfigureAwait(false);
            }
            else
            {
                ReportTables.Sync(ReportTables.ConsoleFor(console.Out), report);
            }

            return report.Succeeded ? ExitCodes.Success : ExitCodes.SomeFailed;
        }
    }
}
