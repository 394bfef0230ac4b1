using System.Globalization;
using Amazon.SimpleSystemsManagement.Model;
using Arcboard.Core.Cloud;
using Arcboard.Core.Fleet;
using CommandInvocation = Arcboard.Core.Cloud.CommandInvocation;

namespace Arcboard.Aws;

/// <summary>
/// <see cref="IRunCommand"/> over SSM Run Command.
/// <see cref="ListInvocationsAsync"/> reads <c>ListCommandInvocations</c>, whose plugin output is the combined stdout and stderr
/// cut at 2,500 characters with no separate stderr: its <see cref="CommandInvocation.StandardError"/> is always empty.
/// Use <see cref="GetInvocationAsync"/> (stdout up to 24,000 characters, stderr up to 8,000) when the whole output matters.
/// <para>
/// Every command carries a delivery timeout (<c>TimeoutSeconds</c>; SSM's default is an hour): a command that has not
/// started within it never will, so after delivery plus execution timeout the connector knows it cannot still run and
/// may send another without ever overlapping the first.
/// </para>
/// </summary>
public sealed class SsmRunCommand(IAwsClientSource clients, TimeSpan deliveryTimeout) : IRunCommand
{
    /// <summary>SSM accepts a delivery timeout of 30 s to 30 days.</summary>
    public static readonly TimeSpan MinDeliveryTimeout = TimeSpan.FromSeconds(30);

    public SsmRunCommand(IAwsClientSource clients)
        : this(clients, TimeSpan.FromMinutes(1))
    {
    }

    public const string LinuxDocument = "AWS-RunShellScript";
    public const string WindowsDocument = "AWS-RunPowerShellScript";

    private const int MaxExecutionTimeoutSeconds = 172_800;

    public async Task<string> SendAsync(AwsScope scope, Platform platform, IReadOnlyList<string> instanceIds, string script, TimeSpan executionTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(instanceIds);
        ArgumentNullException.ThrowIfNull(script);
        if (instanceIds.Count is 0 or > IRunCommand.MaxInstancesPerCommand)
        {
            throw new ArgumentOutOfRangeException(nameof(instanceIds), instanceIds.Count, $"SendCommand takes 1 to {IRunCommand.MaxInstancesPerCommand} instance ids.");
        }

        var seconds = (int)Math.Clamp(Math.Ceiling(executionTimeout.TotalSeconds), 1, MaxExecutionTimeoutSeconds);
        var request = new SendCommandRequest
        {
            DocumentName = platform == Platform.Windows ? WindowsDocument : LinuxDocument,
            InstanceIds = [.. instanceIds],
            Parameters = new Dictionary<string, List<string>>
            {
                ["commands"] = [script],
                ["executionTimeout"] = [seconds.ToString(CultureInfo.InvariantCulture)],
            },
            Comment = "arcboard",
            TimeoutSeconds = (int)Math.Ceiling(Math.Max(deliveryTimeout.TotalSeconds, MinDeliveryTimeout.TotalSeconds)),
        };

        var response = await AwsErrors.CallAsync("ssm", scope, "SendCommand", () => clients.Ssm(scope).SendCommandAsync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.Command?.CommandId is { Length: > 0 } id
            ? id
            : throw new CloudException("ssm", "MissingCommandId", $"ssm:SendCommand in account {scope.AccountId}, region {scope.Region} returned no command id.", true);
    }

    public async Task<IReadOnlyList<CommandInvocation>> ListInvocationsAsync(AwsScope scope, string commandId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentException.ThrowIfNullOrEmpty(commandId);
        var result = new List<CommandInvocation>();
        string? nextToken = null;
        do
        {
            var request = new ListCommandInvocationsRequest { CommandId = commandId, Details = true, MaxResults = 50, NextToken = nextToken };
            var page = await AwsErrors.CallAsync("ssm", scope, "ListCommandInvocations", () => clients.Ssm(scope).ListCommandInvocationsAsync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
            foreach (var invocation in page.CommandInvocations ?? [])
            {
                if (string.IsNullOrEmpty(invocation.InstanceId))
                {
                    continue;
                }

                var plugin = invocation.CommandPlugins?.FirstOrDefault();
                var status = MapStatus(invocation.Status?.Value, invocation.StatusDetails);
                result.Add(new CommandInvocation(
                    invocation.InstanceId,
                    status,
                    plugin?.ResponseCode ?? -1,
                    plugin?.Output ?? "",
                    ""));
            }

            nextToken = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
        }
        while (nextToken is not null);

        return result;
    }

    public async Task<CommandInvocation?> GetInvocationAsync(AwsScope scope, string commandId, string instanceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentException.ThrowIfNullOrEmpty(commandId);
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        GetCommandInvocationResponse response;
        try
        {
            response = await clients.Ssm(scope).GetCommandInvocationAsync(new GetCommandInvocationRequest { CommandId = commandId, InstanceId = instanceId }, cancellationToken).ConfigureAwait(false);
        }
        catch (InvocationDoesNotExistException)
        {
            // Normal right after SendCommand: the invocation is not visible yet.
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            throw AwsErrors.Translate(ex, "ssm", scope, "GetCommandInvocation");
        }

        return new CommandInvocation(
            string.IsNullOrEmpty(response.InstanceId) ? instanceId : response.InstanceId,
            MapStatus(response.Status?.Value, response.StatusDetails),
            response.ResponseCode ?? -1,
            response.StandardOutputContent ?? "",
            response.StandardErrorContent ?? "");
    }

    /// <summary>
    /// The detailed status says more than the status: a delivery or execution timeout, an undeliverable command and a
    /// terminated instance all show up as <c>Failed</c> or <c>TimedOut</c> in the coarse field.
    /// </summary>
    internal static CommandStatus MapStatus(string? status, string? statusDetails)
    {
        switch (statusDetails)
        {
            case "Delivery Timed Out":
            case "Execution Timed Out":
                return CommandStatus.TimedOut;
            case "Undeliverable":
                return CommandStatus.Undeliverable;
            case "Terminated":
                return CommandStatus.Terminated;
        }

        return status switch
        {
            "Pending" => CommandStatus.Pending,
            "InProgress" => CommandStatus.InProgress,
            "Delayed" => CommandStatus.Delayed,
            "Success" => CommandStatus.Success,
            "Cancelled" => CommandStatus.Cancelled,
            "TimedOut" => CommandStatus.TimedOut,
            "Cancelling" => CommandStatus.Cancelling,
            "Failed" => CommandStatus.Failed,
            // An unknown status is treated as still running: waiting costs a poll, finishing early would lose a result.
            _ => CommandStatus.InProgress,
        };
    }
}
