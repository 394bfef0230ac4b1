using Arcboard.Core.Fleet;

namespace Arcboard.Core.Cloud;

/// <summary>SSM Run Command: one script sent to up to 50 instances of one platform, results read back per instance.</summary>
public interface IRunCommand
{
    /// <summary>The most instances one <c>SendCommand</c> may name.</summary>
    const int MaxInstancesPerCommand = 50;

    /// <summary>Sends <paramref name="script"/> with <c>AWS-RunShellScript</c> or <c>AWS-RunPowerShellScript</c>; returns the command id.</summary>
    Task<string> SendAsync(AwsScope scope, Platform platform, IReadOnlyList<string> instanceIds, string script, TimeSpan executionTimeout, CancellationToken cancellationToken);

    /// <summary>
    /// The invocations of one command known so far (<c>ListCommandInvocations</c> with details, all pages).
    /// An instance missing from the list has no invocation yet; that is normal right after sending.
    /// </summary>
    Task<IReadOnlyList<CommandInvocation>> ListInvocationsAsync(AwsScope scope, string commandId, CancellationToken cancellationToken);

    /// <summary>One instance's invocation with its full output (<c>GetCommandInvocation</c>); null when it does not exist (yet).</summary>
    Task<CommandInvocation?> GetInvocationAsync(AwsScope scope, string commandId, string instanceId, CancellationToken cancellationToken);
}

public enum CommandStatus
{
    Pending,
    InProgress,
    Delayed,
    Success,
    Cancelled,
    TimedOut,
    Failed,
    Cancelling,
    Undeliverable,
    Terminated,
}

public sealed record CommandInvocation(string InstanceId, CommandStatus Status, int ResponseCode, string StandardOutput, string StandardError)
{
    public bool IsFinished => Status is CommandStatus.Success or CommandStatus.Cancelled or CommandStatus.TimedOut
        or CommandStatus.Failed or CommandStatus.Undeliverable or CommandStatus.Terminated;
}
