using System.CommandLine;
using Arcboard.Cli.Composition;
using Arcboard.Cli.Output;
using Arcboard.Store;

namespace Arcboard.Cli.Commands;

/// <summary><c>arcboard status</c>: the fleet as the store knows it, without calling any cloud.</summary>
internal static class StatusCommand
{
    public static Command Create(CliConsole console)
    {
        var config = CommonOptions.Config();
        var output = CommonOptions.Output();
        var command = new Command("status", "Show every instance Arcboard knows, its stage and its last outcome, from the state store alone.")
        {
            config,
            output,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = ConnectorSession.LoadConfig(parse.GetRequiredValue(config), console);
            if (options is null)
            {
                return ExitCodes.UsageOrConfiguration;
            }

            try
            {
                await using var store = await Connector.OpenStoreAsync(options, TimeProvider.System, cancellationToken).ConfigureAwait(false);
                var records = await store.ListAsync(cancellationToken).ConfigureAwait(false);
                if (parse.GetValue(output) == Commands.OutputFormat.Json)
                {
                    await console.Out.WriteLineAsync(ReportJson.Status(records)).ConfigureAwait(false);
                }
                else
                {
                    ReportTables.Status(ReportTables.ConsoleFor(console.Out), records);
                }

                return ExitCodes.Success;
            }
            catch (StoreException error)
            {
                return ConnectorSession.StoreProblem(error, console);
            }
        });
        return command;
    }
}
