using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Arcboard.Core.Cleanup;
using Arcboard.Core.Onboarding;
using Spectre.Console;

namespace Arcboard.Cli.Output;

/// <summary>The forms of a <see cref="CleanupReport"/>: JSON (a contract documented in the README), a table, and progress lines.</summary>
public static class CleanupOutput
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The report of <c>arcboard offboard</c>.</summary>
    public static string Offboard(CleanupReport report, bool dryRun)
    {
        ArgumentNullException.ThrowIfNull(report);
        var root = new JsonObject
        {
            ["dryRun"] = dryRun,
            ["summary"] = Summary(report),
            ["machines"] = Machines(report),
            ["errors"] = Errors(report.Errors),
        };
        return root.ToJsonString(s_json);
    }

    /// <summary>The <c>cleanup</c> object of the sync report.</summary>
    public static JsonObject Cleanup(CleanupReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return new JsonObject
        {
            ["summary"] = Summary(report),
            ["machines"] = Machines(report),
            ["errors"] = Errors(report.Errors),
        };
    }

    public static void Table(IAnsiConsole console, CleanupReport report, string title)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        if (report.Machines.Count > 0)
        {
            var table = new Table().Border(TableBorder.Rounded).Title(title);
            table.AddColumns("Account", "Region", "Instance", "Action", "Agent", "Machine", "Reason");
            foreach (var m in report.Machines)
            {
                table.AddRow(
                    new Text(m.AccountId),
                    new Text(m.Region),
                    new Text(m.InstanceId),
                    new Text(m.Action.ToString()),
                    new Text(m.Agent.ToString()),
                    new Text(m.ResourceId ?? "-"),
                    new Text(m.Reason));
            }

            console.Write(table);
        }

        foreach (var error in report.Errors)
        {
            console.MarkupLineInterpolated($"[red]{error.AccountId}/{error.Region}:[/] {error.Reason}");
        }

        var line = Markup.Escape($"{title}: {report.Count(RemovalAction.Deleted)} deleted, {report.Count(RemovalAction.AlreadyGone)} already gone, {report.Count(RemovalAction.WouldDelete)} would be deleted, {report.Count(RemovalAction.NotOurs)} not Arcboard's")
            + $", [red]{report.Count(RemovalAction.Failed)} failed[/]";
        // Only offboarding disconnects agents, so the count is shown only when there is something to say.
        var agentsFailed = report.Machines.Count(m => m.Agent == AgentAction.Failed);
        if (agentsFailed > 0)
        {
            line += $", [red]{agentsFailed} agents not disconnected[/]";
        }

        console.MarkupLine(line);
    }

    private static JsonObject Summary(CleanupReport report) => new()
    {
        ["total"] = report.Machines.Count,
        ["deleted"] = report.Count(RemovalAction.Deleted),
        ["alreadyGone"] = report.Count(RemovalAction.AlreadyGone),
        ["wouldDelete"] = report.Count(RemovalAction.WouldDelete),
        ["notOurs"] = report.Count(RemovalAction.NotOurs),
        ["noMachine"] = report.Count(RemovalAction.NoMachine),
        ["failed"] = report.Count(RemovalAction.Failed),
        ["agentsDisconnected"] = report.Machines.Count(m => m.Agent == AgentAction.Disconnected),
        // A failed disconnect does not stop the deletion, so it shows here rather than in "failed", and it alone can make the exit code 2.
        ["agentsFailed"] = report.Machines.Count(m => m.Agent == AgentAction.Failed),
        ["scopeErrors"] = report.Errors.Count,
    };

    private static JsonArray Machines(CleanupReport report)
    {
        var machines = new JsonArray();
        foreach (var m in report.Machines)
        {
            machines.Add(new JsonObject
            {
                ["accountId"] = m.AccountId,
                ["region"] = m.Region,
                ["instanceId"] = m.InstanceId,
                ["azureResourceId"] = m.ResourceId,
                ["action"] = m.Action.ToString(),
                ["agent"] = m.Agent.ToString(),
                ["reason"] = m.Reason,
            });
        }

        return machines;
    }

    private static JsonArray Errors(IReadOnlyList<ScopeError> errors)
    {
        var array = new JsonArray();
        foreach (var error in errors)
        {
            array.Add(new JsonObject { ["accountId"] = error.AccountId, ["region"] = error.Region, ["reason"] = error.Reason });
        }

        return array;
    }
}

/// <summary>Clean-up progress for a person, on stderr.</summary>
public sealed class CleanupProgress(TextWriter writer, TimeProvider time) : ICleanupObserver
{
    private readonly Lock _lock = new();
    private readonly long _started = time.GetTimestamp();

    public void StepStarted(string scope, string step, int machines) =>
        Write($"{scope}: clean-up: {step} for {machines} machine{(machines == 1 ? "" : "s")}");

    public void MachineFinished(MachineRemoval removal) =>
        Write($"{removal.AccountId}/{removal.Region}/{removal.InstanceId}: {removal.Action}: {removal.Reason}");

    public void ScopeFailed(ScopeError error) =>
        Write($"{error.AccountId}/{error.Region}: clean-up: {error.Reason}");

    private void Write(string line)
    {
        lock (_lock)
        {
            writer.WriteLine($"[{time.GetElapsedTime(_started):mm\\:ss}] {line}");
            writer.Flush();
        }
    }
}
