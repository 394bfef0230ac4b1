using System.CommandLine;
using Arcboard.Cli.Composition;
using Arcboard.Cli.Output;
using Arcboard.Core.Configuration;
using Arcboard.Core.Onboarding;
using Arcboard.Sandbox.Hosting;
using Microsoft.Extensions.Logging;

namespace Arcboard.Cli.Commands;

/// <summary>
/// <c>arcboard demo</c>: the whole story on one laptop. Starts a sandbox in-process, writes a configuration for it,
/// onboards its fleet through the same code path as <c>sync</c>, then runs a second pass to show it changes nothing.
/// </summary>
internal static class DemoCommand
{
    public static Command Create(CliConsole console)
    {
        var instances = new Option<int>("--instances") { Description = "How many instances the sandbox fleet has.", DefaultValueFactory = _ => 24 };
        var seed = new Option<int>("--seed") { Description = "Seed of the generated fleet.", DefaultValueFactory = _ => 7 };
        seed.InRange(0, int.MaxValue);
        var output = CommonOptions.Output();
        var keep = new Option<bool>("--keep") { Description = "Keep the sandbox's data folder (instance roots, configuration, store) afterwards." };
        instances.InRange(1, 2000);

        var command = new Command("demo", "Start a sandbox fleet in-process and onboard it to the sandbox's Azure Arc, end to end.")
        {
            instances, seed, output, keep,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var dataDirectory = Directory.CreateTempSubdirectory("arcboard-demo-").FullName;
            try
            {
                return await RunAsync(parse.GetValue(instances), parse.GetValue(seed), parse.GetValue(output), dataDirectory, console, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (parse.GetValue(keep))
                {
                    await console.Error.WriteLineAsync($"kept {dataDirectory}").ConfigureAwait(false);
                }
                else
                {
                    TryDelete(dataDirectory);
                }
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(int instances, int seed, OutputFormat output, string dataDirectory, CliConsole console, CancellationToken cancellationToken)
    {
        await console.Error.WriteLineAsync($"Starting a sandbox with {instances} instances (seed {seed})...").ConfigureAwait(false);
        await using var sandbox = await SandboxHost.StartAsync(
            new SandboxOptions { Instances = instances, Seed = seed, DataDirectory = Path.Combine(dataDirectory, "sandbox") },
            cancellationToken).ConfigureAwait(false);

        var configPath = Path.Combine(dataDirectory, "arcboard.json");
        await sandbox.WriteConfigFileAsync(configPath, "arcboard.db", cancellationToken).ConfigureAwait(false);
        var options = ConfigLoader.Load(configPath);
        await console.Error.WriteLineAsync($"Sandbox ready: AWS at {sandbox.Endpoints.AwsEndpoint}, Azure at {sandbox.Endpoints.ArmEndpoint}. Onboarding...").ConfigureAwait(false);

        var exitCode = await SyncCommand.RunAsync(options, output, LogLevel.Warning, console, cancellationToken).ConfigureAwait(false);
        if (exitCode == ExitCodes.Cancelled)
        {
            return exitCode;
        }

        // The second pass proves idempotence with the sandbox's own counters rather than the connector's word.
        var commandsBefore = sandbox.Stats.Count("ssm", "SendCommand");
        var writesBefore = ArmWrites(sandbox);
        using (var quiet = ConnectorSession.Loggers(console, LogLevel.Warning))
        {
            await using var connector = await Connector.CreateAsync(options, quiet, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            await connector.Reconciler.SyncAsync(OnboardingPolicies.Scopes(options), null, cancellationToken).ConfigureAwait(false);
        }

        await console.Error.WriteLineAsync(
            $"Second pass: {sandbox.Stats.Count("ssm", "SendCommand") - commandsBefore} Run Commands sent, {ArmWrites(sandbox) - writesBefore} ARM writes: nothing left to do.").ConfigureAwait(false);
        return exitCode;
    }

    private static long ArmWrites(SandboxHost sandbox) =>
        sandbox.Stats.Snapshot().TryGetValue("arm", out var operations)
            ? operations.Where(o => o.Key.StartsWith("Put", StringComparison.Ordinal) || o.Key.StartsWith("Patch", StringComparison.Ordinal) || o.Key.StartsWith("Delete", StringComparison.Ordinal)).Sum(o => o.Value)
            : 0;

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless; failing the demo over it is not.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
