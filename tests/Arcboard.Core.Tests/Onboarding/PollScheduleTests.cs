using Arcboard.Core.Onboarding;

namespace Arcboard.Core.Tests.Onboarding;

public sealed class PollScheduleTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    /// <summary>The times, from the send, at which a command is read when its only instance finishes at <paramref name="finishesAt"/>.</summary>
    private static List<double> Reads(double finishesAt, double until = 60)
    {
        var reads = new List<double>();
        var at = TimeSpan.Zero;
        var wait = Interval;
        var lastFinished = TimeSpan.Zero;
        while (at.TotalSeconds <= until)
        {
            reads.Add(at.TotalSeconds);
            if (at.TotalSeconds >= finishesAt)
            {
                break;
            }

            wait = PollSchedule.Next(wait, at - lastFinished, Interval);
            at += wait;
        }

        return reads;
    }

    [Fact]
    public void A_command_that_ends_in_the_usual_time_is_read_every_interval_and_seen_within_one_of_ending()
    {
        Reads(finishesAt: 15).ShouldBe([0, 2, 4, 6, 8, 10, 12, 14, 16]);
    }

    [Fact]
    public void A_command_quiet_for_eight_intervals_is_read_half_as_often_again_each_time_up_to_four_intervals()
    {
        Reads(finishesAt: double.MaxValue, until: 60).ShouldBe([0, 2, 4, 6, 8, 10, 12, 14, 16, 19, 23.5, 30.25, 38.25, 46.25, 54.25]);
    }

    [Fact]
    public void An_instance_finishing_brings_a_quiet_command_back_to_the_interval()
    {
        var stretched = TimeSpan.FromSeconds(6.75);

        PollSchedule.Next(stretched, sinceLastFinished: TimeSpan.Zero, Interval).ShouldBe(Interval);
        PollSchedule.Next(stretched, sinceLastFinished: Interval * PollSchedule.QuietAfterPolls, Interval).ShouldBe(Interval * PollSchedule.MaxBackoff);
    }
}
