using Arcboard.Cli.Output;
using Arcboard.Core.Fleet;
using Arcboard.Core.Onboarding;
using Arcboard.Core.State;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Arcboard.EndToEnd.Tests;

public sealed class ProgressReporterTests
{
    private static readonly AwsScope Scope = new("111111111111", "us-east-1");

    [Fact]
    public void Rate_and_time_left_show_as_agents_connect_before_the_end_of_scope_confirmation()
    {
        var time = new FakeTimeProvider();
        using var error = new StringWriter();
        using var progress = new ProgressReporter(error, time);
        progress.ScopeListed(Scope, 100, 100);

        time.Advance(TimeSpan.FromMinutes(1));
        for (var i = 0; i < 30; i++)
        {
            progress.StepProgress(Scope, OnboardingStep.Connect);
        }

        // One line per quiet interval: the first event writes it, so 1 connect in 1 minute, 99 left.
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[^1].ShouldContain("connected 1, done 0/100");
        lines[^1].ShouldContain("1/min, about 01:39:00 left");

        time.Advance(ProgressReporter.QuietInterval);
        progress.StepProgress(Scope, OnboardingStep.Connect);

        lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[^1].ShouldContain("connected 31, done 0/100");
        lines[^1].ShouldContain("about 00:02:");
    }

    [Fact]
    public void With_nothing_done_yet_no_rate_is_guessed()
    {
        var time = new FakeTimeProvider();
        using var error = new StringWriter();
        using var progress = new ProgressReporter(error, time);
        progress.ScopeListed(Scope, 10, 10);

        time.Advance(TimeSpan.FromSeconds(30));
        progress.StepProgress(Scope, OnboardingStep.Genkey);

        error.ToString().ShouldContain("rate not known yet");
    }

    [Fact]
    public void A_pass_that_goes_quiet_still_writes_its_status_line_every_heartbeat_and_stops_once_every_instance_has_a_verdict()
    {
        var time = new FakeTimeProvider();
        using var error = new StringWriter();
        using var progress = new ProgressReporter(error, time);
        progress.ScopeListed(Scope, 2, 2);
        progress.StepStarted(Scope, OnboardingStep.Genkey, 2);
        var before = Lines(error);

        time.Advance(ProgressReporter.HeartbeatInterval - TimeSpan.FromSeconds(1));
        Lines(error).ShouldBe(before, "nothing is written before the heartbeat is due");

        time.Advance(ProgressReporter.QuietInterval);
        var heartbeat = Lines(error).Skip(before.Length).ShouldHaveSingleItem();
        heartbeat.ShouldContain("done 0/2");

        time.Advance(ProgressReporter.HeartbeatInterval);
        Lines(error).Length.ShouldBe(before.Length + 2, "a second silent interval brings a second line");

        progress.InstanceFinished(new InstanceReport(Scope.AccountId, Scope.Region, "i-00000001", Platform.Linux, Outcome.Onboarded, "onboarded", null, null));
        progress.InstanceFinished(new InstanceReport(Scope.AccountId, Scope.Region, "i-00000002", Platform.Linux, Outcome.Onboarded, "onboarded", null, null));
        var finished = Lines(error);
        finished[^1].ShouldContain("done 2/2");

        time.Advance(ProgressReporter.HeartbeatInterval * 3);
        Lines(error).ShouldBe(finished, "a finished pass has nothing to report");
    }

    [Fact]
    public void A_long_listing_gets_heartbeats_that_say_how_many_accounts_and_regions_are_listed()
    {
        var time = new FakeTimeProvider();
        using var error = new StringWriter();
        using var progress = new ProgressReporter(error, time);
        var other = new AwsScope("222222222222", "eu-west-1");
        progress.PassStarted([Scope, other]);
        Lines(error).ShouldBe(["[00:00:00] listing 2 accounts and regions"]);

        time.Advance(ProgressReporter.HeartbeatInterval + ProgressReporter.QuietInterval);
        Lines(error)[^1].ShouldEndWith("; 0 of 2 accounts and regions listed");

        progress.ScopeListed(Scope, 1, 0);
        progress.InstanceFinished(new InstanceReport(Scope.AccountId, Scope.Region, "i-00000001", Platform.Linux, Outcome.Skipped, "the instance is stopped", null, null));
        Lines(error)[^1].ShouldEndWith("; 1 of 2 accounts and regions listed");

        progress.ScopeFailed(new ScopeError(other.AccountId, other.Region, "could not list the account and region: AccessDenied"));
        var settled = Lines(error);
        time.Advance(ProgressReporter.HeartbeatInterval * 3);
        Lines(error).ShouldBe(settled, "every scope is listed or failed and every instance has its verdict");
    }

    private static string[] Lines(StringWriter error) => error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
