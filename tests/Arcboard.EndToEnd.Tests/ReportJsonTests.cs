using System.Text.Json;
using Arcboard.Cli.Output;
using Arcboard.Core.Cleanup;
using Arcboard.Core.Fleet;
using Arcboard.Core.Onboarding;
using Arcboard.Core.State;
using Shouldly;
using Xunit;

namespace Arcboard.EndToEnd.Tests;

public sealed class ReportJsonTests
{
    [Fact]
    public void A_report_streamed_in_many_chunks_is_one_valid_document_with_every_character_intact()
    {
        // Multi-byte characters in every reason, and enough instances to cross many chunk boundaries.
        var instances = Enumerable.Range(0, 3000)
            .Select(n => new InstanceReport("111111111111", "eu-west-1", $"i-{n:x17}", Platform.Linux, Outcome.Failed, $"réponse « {n} » 🚀 ünïcode", null, "genkey"))
            .ToList();
        var cleanup = new CleanupReport(
            [new MachineRemoval("111111111111", "eu-west-1", "i-00000000000000001", "/subscriptions/s/machines/m", RemovalAction.Deleted, AgentAction.None, "deleted: the instance is terminated")],
            []);
        using var output = new StringWriter();

        ReportJson.WriteSync(output, new SyncReport(instances, [new ScopeError("222222222222", "us-west-2", "could not list")]), cleanup);

        output.ToString().Length.ShouldBeGreaterThan(3 * 64 * 1024);
        using var document = JsonDocument.Parse(output.ToString());
        var root = document.RootElement;
        root.GetProperty("summary").GetProperty("total").GetInt32().ShouldBe(3000);
        root.GetProperty("summary").GetProperty("failed").GetInt32().ShouldBe(3000);
        root.GetProperty("summary").GetProperty("removed").GetInt32().ShouldBe(1);
        root.GetProperty("summary").GetProperty("cleanupFailed").GetInt32().ShouldBe(0);
        var read = root.GetProperty("instances").EnumerateArray().Select(i => i.GetProperty("reason").GetString() ?? "").ToList();
        read.ShouldBe(instances.Select(i => i.Reason).ToList());
        root.GetProperty("errors").EnumerateArray().ShouldHaveSingleItem().GetProperty("reason").GetString().ShouldBe("could not list");
        root.GetProperty("cleanup").GetProperty("summary").GetProperty("deleted").GetInt32().ShouldBe(1);
    }

    [Fact]
    public void Without_clean_up_the_report_has_no_clean_up_fields()
    {
        using var output = new StringWriter();

        ReportJson.WriteSync(output, new SyncReport([], []), cleanup: null);

        using var document = JsonDocument.Parse(output.ToString());
        document.RootElement.TryGetProperty("cleanup", out _).ShouldBeFalse();
        document.RootElement.GetProperty("summary").TryGetProperty("removed", out _).ShouldBeFalse();
        document.RootElement.GetProperty("instances").GetArrayLength().ShouldBe(0);
    }
}
