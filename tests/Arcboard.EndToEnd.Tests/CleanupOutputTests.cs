using Arcboard.Cli.Output;
using Arcboard.Core.Cleanup;
using Shouldly;
using Spectre.Console;
using Xunit;

namespace Arcboard.EndToEnd.Tests;

public sealed class CleanupOutputTests
{
    private static string Render(params MachineRemoval[] machines)
    {
        using var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(text),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
        });
        // Wide enough that the closing line is not wrapped.
        console.Profile.Width = 400;
        CleanupOutput.Table(console, new CleanupReport(machines, []), "Clean-up");
        return text.ToString();
    }

    private static MachineRemoval Removal(string id, AgentAction agent) =>
        new("111111111111", "us-east-1", id, null, RemovalAction.Deleted, agent, "the instance is terminated");

    [Fact]
    public void The_closing_line_counts_agents_not_disconnected_only_when_there_are_some()
    {
        var cleanup = Render(Removal("i-00000001", AgentAction.None));
        cleanup.ShouldContain("Clean-up: 1 deleted, 0 already gone, 0 would be deleted, 0 not Arcboard's, 0 failed");
        cleanup.ShouldNotContain("agents not disconnected");

        var offboard = Render(Removal("i-00000001", AgentAction.Failed), Removal("i-00000002", AgentAction.Disconnected));
        offboard.ShouldContain("2 deleted, 0 already gone, 0 would be deleted, 0 not Arcboard's, 0 failed, 1 agents not disconnected");
    }
}
