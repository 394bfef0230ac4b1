using System.CommandLine;
using Arcboard.Cli.Composition;
using Arcboard.Cli.Output;
using Arcboard.Core.Cleanup;
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
        var strategy = Strategy();
        var command = new Command("sync", "Onboard every eligible EC2 instance of the configured accounts and regions to Azure Arc, once.")
        {
            config,
            output,
            logLevel,
            strategy,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var options = ConnectorSession.LoadConfig(parse.GetRequiredValue(config), console);
            return options is null
                ? Task.FromResult(ExitCodes.UsageOrConfiguration)
                : RunAsync(options, parse.GetValue(output), parse.GetValue(logLevel), console, cancellationToken, parse.GetValue(strategy));
        });
        return command;
    }

    private static Option<OnboardingStrategy> Strategy()
    {
        var option = new Option<OnboardingStrategy>("--strategy")
        {
            Description = "batched (one Run Command per 50 instances and step, streamed; the default) or per-instance (one Run Command per instance and step, the baseline to compare with).",
            DefaultValueFactory = _ => OnboardingStrategy.Batched,
            CustomParser = result =>
            {
                var token = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                switch (token.ToLowerInvariant())
                {
                    case "batched":
                        return OnboardingStrategy.Batched;
                    case "per-instance":
                        return OnboardingStrategy.PerInstance;
                    default:
                        result.AddError($"--strategy must be batched or per-instance, not '{token}'.");
                        return OnboardingStrategy.Batched;
                }
            },
        };
        option.HelpName = "batched|per-instance";
        return option;
    }

    public static async Task<int> RunAsync(ArcboardOptions options, OutputFormat output, LogLevel logLevel, CliConsole console, CancellationToken cancellationToken, OnboardingStrategy strategy = OnboardingStrategy.Batched)
    {
        using var loggers = ConnectorSession.Loggers(console, logLevel);
        Connector connector;
        try
        {
            connector = await Connector.CreateAsync(options, loggers, TimeProvider.System, cancellationToken, strategy).ConfigureAwait(false);
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
                using var progress = new ProgressReporter(console.Error, TimeProvider.System, interactive: ReferenceEquals(console, CliConsole.System) && !Console.IsErrorRedirected);
                report = await connector.Reconciler.SyncAsync(OnboardingPolicies.Scopes(options), progress, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                console.Error.WriteLine("Stopped. Every step taken is recorded; run sync again to resume.");
                return ExitCodes.Cancelled;
            }

            CleanupReport cleanup;
            try
            {
                // Only scopes the onboarding pass listed; the cleaner lists each again and deletes nothing on an incomplete listing.
                var listed = OnboardingPolicies.Scopes(options)
                    .Where(s => !report.Errors.Any(e => e.AccountId == s.AccountId && e.Region == s.Region)).ToList();
                cleanup = await connector.Cleaner.CleanUpAsync(listed, new CleanupProgress(console.Error, TimeProvider.System), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                console.Error.WriteLine("Stopped during clean-up. Every deletion made is recorded; run sync again to finish.");
                return ExitCodes.Cancelled;
            }

            if (output == OutputFormat.Json)
            {
                ReportJson.WriteSync(console.Out, report, cleanup);
                await console.Out.WriteLineAsync().ConfigureAwait(false);
            }
            else
            {
                var table = ReportTables.ConsoleFor(console.Out);
                ReportTables.Sync(table, report);
                if (cleanup.Machines.Count > 0 || cleanup.Errors.Count > 0)
                {
                    CleanupOutput.Table(table, cleanup, "Clean-up");
                }
            }

            return report.Succeeded && cleanup.Succeeded ? ExitCodes.Success : ExitCodes.SomeFailed;
        }
    }
}
