namespace Arcboard.Core.Onboarding;

/// <summary>
/// How long to wait before reading a sent command's results again. A command is read at the poll interval while its
/// instances are running their scripts as usual, so a healthy genkey or connect is seen within one interval of ending.
/// Once none of its instances has finished for <see cref="QuietAfterPolls"/> intervals (a hung or slow instance waiting
/// out a long timeout), each read stretches the next by half, up to <see cref="MaxBackoff"/> intervals, so it does not
/// spend the reads other commands need.
/// </summary>
public static class PollSchedule
{
    /// <summary>Poll intervals without an instance finishing after which a command counts as quiet.</summary>
    public const int QuietAfterPolls = 8;

    /// <summary>A quiet command is read at most this many poll intervals apart.</summary>
    public const int MaxBackoff = 4;

    /// <param name="previous">The wait before the read just made.</param>
    /// <param name="sinceLastFinished">Time since an instance of the command last finished, or since it was sent.</param>
    /// <param name="pollInterval">The configured poll interval.</param>
    public static TimeSpan Next(TimeSpan previous, TimeSpan sinceLastFinished, TimeSpan pollInterval)
    {
        if (sinceLastFinished < pollInterval * QuietAfterPolls)
        {
            return pollInterval;
        }

        var stretched = previous * 1.5;
        var longest = pollInterval * MaxBackoff;
        return stretched < longest ? stretched : longest;
    }
}
