using Microsoft.Extensions.Logging;

namespace Arcboard.Core.Cleanup;

public sealed partial class MachineCleaner
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 2000, Level = LogLevel.Error, Message = "Clean-up skipped {AccountId}/{Region}: the listing failed ({Code}): {Reason}")]
        public static partial void ScopeFailed(ILogger logger, string accountId, string region, string code, string reason);

        [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "{AccountId}/{Region}/{InstanceId}: deleted machine {ResourceId}")]
        public static partial void MachineDeleted(ILogger logger, string accountId, string region, string instanceId, string resourceId);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "{AccountId}/{Region}/{InstanceId}: machine {ResourceId} lacks Arcboard's tags for this instance; left as it is")]
        public static partial void NotOurs(ILogger logger, string accountId, string region, string instanceId, string resourceId);

        [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Sent disconnect command {CommandId} to {Count} instances in {AccountId}/{Region}")]
        public static partial void CommandSent(ILogger logger, string accountId, string region, string commandId, int count);

        [LoggerMessage(EventId = 2004, Level = LogLevel.Debug, Message = "{Service} call failed transiently ({Code}), attempt {Attempt}; retrying in {DelaySeconds:0.0} s")]
        public static partial void Retrying(ILogger logger, string service, string code, int attempt, double delaySeconds);
    }
}
