using Arcboard.Core.Onboarding;
using Arcboard.Core.State;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Arcboard.Cli.Output;

/// <summary>The human forms of reports, rendered with Spectre.Console onto the CLI's stdout.</summary>
public static class ReportTables
{
    public static IAnsiConsole ConsoleFor(TextWriter writer)
    {
        var terminal = writer == Console.Out && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!terminal)
        {
            // A file or a pipe has no width; wrapping reasons into 80 columns would make them unreadable.
            console.Profile.Width = 240;
        }

        return console;
    }

    public static void Sync(IAnsiConsole console, SyncReport report)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumns(Fixed("Account"), Fixed("Region"), Fixed("Instance"), Fixed("Platform"), Fixed("Outcome"), new TableColumn("Reason"));
        foreach (var i in report.Instances)
        {
            table.AddRow(
                new Text(i.AccountId),
                new Text(i.Region),
                new Text(i.InstanceId),
                new Text(i.Platform.ToString()),
                OutcomeCell(i.Outcome),
                new Text(i.FailedStep is null ? i.Reason : $"[{i.FailedStep}] {i.Reason}"));
        }

        console.Write(table);
        foreach (var error in report.Errors)
        {
            console.MarkupLineInterpolated($"[red]{error.AccountId}/{error.Region}:[/] {error.Reason}");
        }

        console.MarkupLineInterpolated(
            $"[bold]{report.Instances.Count}[/] instances: [green]{report.Count(Outcome.Onboarded)} onboarded[/], {report.Count(Outcome.AlreadyConnected)} already connected, {report.Count(Outcome.Skipped)} skipped, [red]{report.Count(Outcome.Failed)} failed[/]");
    }

    public static void Status(IAnsiConsole console, IReadOnlyList<InstanceRecord> records)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(records);
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumns(Fixed("Account"), Fixed("Region"), Fixed("Instance"), Fixed("Platform"), Fixed("Stage"), Fixed("Outcome"), new TableColumn("Reason"), Fixed("Updated"));
        foreach (var r in records)
        {
            table.AddRow(
                new Text(r.Key.AccountId),
                new Text(r.Key.Region),
                new Text(r.Key.InstanceId),
                new Text(r.Platform.ToString()),
                new Text(r.Stage.ToString()),
                r.Outcome is { } outcome ? OutcomeCell(outcome) : new Text("-"),
                new Text(r.Reason ?? ""),
                new Text(r.UpdatedAt.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)));
        }

        console.Write(table);
        console.MarkupLineInterpolated($"[bold]{records.Count}[/] instances known, {records.Count(r => r.Stage == OnboardingStage.Connected)} connected by Arcboard");
    }

    private static TableColumn Fixed(string header) => new TableColumn(header).NoWrap();

    private static IRenderable OutcomeCell(Outcome outcome) => outcome switch
    {
        Outcome.Onboarded => new Markup("[green]Onboarded[/]"),
        Outcome.AlreadyConnected => new Markup("[blue]AlreadyConnected[/]"),
        Outcome.Skipped => new Markup("[grey]Skipped[/]"),
        Outcome.Failed => new Markup("[red]Failed[/]"),
        _ => new Text(outcome.ToString()),
    };
}
