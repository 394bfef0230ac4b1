using System.CommandLine;
using System.Text.RegularExpressions;
using Arcboard.Cli.Composition;
using Arcboard.Cli.Output;
using Arcboard.Core.Cleanup;
using Arcboard.Core.Configuration;
using Arcboard.Store;
using Microsoft.Extensions.Logging;

namespace Arcboard.Cli.Commands;

/// <summary>
/// <c>arcboard offboard</c>: for the selected instances, tell each reachable agent to disconnect, then delete the machine
/// Arcboard created for it. Machines Arcboard did not create are reported and left alone.
/// </summary>
internal static partial class OffboardCommand
{
    public static Command Create(CliConsole console)
    {
        var config = CommonOptions.Config();
        var output = CommonOptions.Output();
        var logLevel = CommonOptions.LogLevel();
        var instance = new Option<string?>("--instance") { Description = "The EC2 instance id to offboard (i-...).", HelpName = "i-..." };
        var account = new Option<string?>("--account") { Description = "Only this configured AWS account.", HelpName = "ACCOUNT_ID" };
        var region = new Option<string?>("--region") { Description = "Only this configured AWS region.", HelpName = "REGION" };
        var tag = new Option<string?>("--tag") { Description = "Offboard every instance carrying this EC2 tag.", HelpName = "KEY=VALUE" };
        var all = new Option<bool>("--all") { Description = "Offboard every instance Arcboard onboarded in the configured (or given) accounts and regions." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Show what would be disconnected and deleted, and change nothing." };
        var command = new Command("offboard", "Disconnect the agent of the selected instances and delete the Arc machines Arcboard created for them.")
        {
            config,
            instance,
            account,
            region,
            tag,
            all,
            dryRun,
            output,
            logLevel,
        };
        command.Validators.Add(result =>
        {
            var chosen = new[] { result.GetValue(instance) is not null, result.GetValue(tag) is not null, result.GetValue(all) }.Count(x => x);
            if (chosen != 1)
            {
                result.AddError("choose what to offboard with exactly one of --instance i-..., --tag KEY=VALUE or --all.");
            }

            if (result.GetValue(instance) is { } id && !InstanceIdPattern().IsMatch(id))
            {
                result.AddError($"--instance '{id}' is not an EC2 instance id; it looks like i-0123456789abcdef0.");
            }

            if (result.GetValue(tag) is { } t && (t.IndexOf('=', StringComparison.Ordinal) <= 0))
            {
                result.AddError($"--tag '{t}' must be KEY=VALUE, for example --tag team=web.");
            }
        });
        command.SetAction((parse, cancellationToken) =>
        {
            var options = ConnectorSession.LoadConfig(parse.GetRequiredValue(config), console);
            if (options is null)
            {
                return Task.FromResult(ExitCodes.UsageOrConfiguration);
            }

            var tagText = parse.GetValue(tag);
            var separator = tagText?.IndexOf('=', StringComparison.Ordinal) ?? -1;
            var selection = new OffboardSelection
            {
                InstanceId = parse.GetValue(instance),
                AccountId = parse.GetValue(account),
                Region = parse.GetValue(region),
                TagKey = tagText?[..separator],
                TagValue = tagText?[(separator + 1)..],
                All = parse.GetValue(all),
            };
            return RunAsync(options, selection, parse.GetValue(dryRun), parse.GetValue(output), parse.GetValue(logLevel), console, cancellationToken);
        });
        return command;
    }

    public static async Task<int> RunAsync(ArcboardOptions options, OffboardSelection selection, bool dryRun, OutputFormat output, LogLevel logLevel, CliConsole console, CancellationToken cancellationToken)
    {
        var scopes = OnboardingPolicies.Scopes(options).Where(selection.Covers).ToList();
        if (scopes.Count == 0)
        {
            console.Error.WriteLine($"error: the configuration watches no account and region matching --account {selection.AccountId ?? "(any)"} --region {selection.Region ?? "(any)"}; use one listed under aws.accounts.");
            return ExitCodes.UsageOrConfiguration;
        }

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
            CleanupReport report;
            try
            {
                report = await connector.Cleaner.OffboardAsync(scopes, selection, dryRun, new CleanupProgress(console.Error, TimeProvider.System), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                console.Error.WriteLine("Stopped. Every deletion made is recorded; run offboard again to finish.");
                return ExitCodes.Cancelled;
            }

            if (output == OutputFormat.Json)
            {
                await console.Out.WriteLineAsync(CleanupOutput.Offboard(report, dryRun)).ConfigureAwait(false);
            }
            else
            {
                CleanupOutput.Table(ReportTables.ConsoleFor(console.Out), report, dryRun ? "Offboard (dry run, nothing changed)" : "Offboard");
            }

            return report.Succeeded ? ExitCodes.Success : ExitCodes.SomeFailed;
        }
    }

    [GeneratedRegex("^i-([0-9a-f]{8}|[0-9a-f]{17})$")]
    private static partial Regex InstanceIdPattern();
}
