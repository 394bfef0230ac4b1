using Arcboard.Core.State;
using Microsoft.Extensions.Logging;

namespace Arcboard.Core.Onboarding;

public sealed partial class OnboardingReconciler
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Listed {AccountId}/{Region}: {Instances} instances, {Nodes} SSM nodes, {Eligible} eligible")]
        public static partial void ScopeListed(ILogger logger, string accountId, string region, int instances, int nodes, int eligible);

        [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "Could not work on {AccountId}/{Region}: {Code}: {Reason}")]
        public static partial void ScopeFailed(ILogger logger, string accountId, string region, string code, string reason);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Sent {Step} command {CommandId} to {Count} instances in {AccountId}/{Region}")]
        public static partial void CommandSent(ILogger logger, string accountId, string region, string step, string commandId, int count);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "{AccountId}/{Region}/{InstanceId} printed a valid public key (SHA-256 {Fingerprint})")]
        public static partial void KeyReceived(ILogger logger, string accountId, string region, string instanceId, string fingerprint);

        [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "{AccountId}/{Region}/{InstanceId}: created machine {ResourceId}")]
        public static partial void MachineCreated(ILogger logger, string accountId, string region, string instanceId, string resourceId);

        [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "{AccountId}/{Region}/{InstanceId}: {Outcome}: {Reason}")]
        public static partial void InstanceSettled(ILogger logger, string accountId, string region, string instanceId, Outcome outcome, string reason);

        [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "{AccountId}/{Region}/{InstanceId}: machine {ResourceGroup}/{Name} was connected but is gone from Azure; onboarding again")]
        public static partial void MachineVanished(ILogger logger, string accountId, string region, string instanceId, string resourceGroup, string name);

        [LoggerMessage(EventId = 1007, Level = LogLevel.Debug, Message = "{Service} call failed transiently ({Code}), attempt {Attempt}; retrying in {DelaySeconds:0.0} s")]
        public static partial void Retrying(ILogger logger, string service, string code, int attempt, double delaySeconds);
    }
}
