namespace Arcboard.Cli;

/// <summary>What the <c>arcboard</c> process exits with; scripts and CI rely on these.</summary>
public static class ExitCodes
{
    /// <summary>Every eligible instance is connected (sync), or the command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>Bad usage or configuration: nothing was attempted; the message says what to fix.</summary>
    public const int UsageOrConfiguration = 1;

    /// <summary>The pass ran, but some instances failed or an account/region could not be listed.</summary>
    public const int SomeFailed = 2;

    /// <summary>Stopped by Ctrl+C or SIGTERM; the store holds every step taken, so the next run resumes.</summary>
    public const int Cancelled = 130;
}
