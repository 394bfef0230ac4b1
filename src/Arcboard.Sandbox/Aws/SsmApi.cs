using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Arcboard.Sandbox.Fleet;

namespace Arcboard.Sandbox.Aws;

/// <summary>Systems Manager over JSON 1.1 (<c>X-Amz-Target: AmazonSSM.*</c>), shapes as in botocore's ssm model.</summary>
public sealed class SsmApi(SandboxFleet fleet, RunCommandService commands, TimeProvider time)
{
    public const int StandardOutputLimit = 24000;
    public const int StandardErrorLimit = 8000;
    public const int PluginOutputLimit = 2500;

    public JsonObject Handle(AwsCall call, JsonObject input) => call.Operation switch
    {
        "SendCommand" => SendCommand(call, input),
        "GetCommandInvocation" => GetCommandInvocation(call, input),
        "ListCommandInvocations" => ListCommandInvocations(call, input),
        "DescribeInstanceInformation" => DescribeInstanceInformation(call, input),
        "CancelCommand" => CancelCommand(call, input),
        _ => throw new AwsServiceException("UnknownOperationException", ""),
    };

    private JsonObject SendCommand(AwsCall call, JsonObject input)
    {
        var documentName = Str(input, "DocumentName") ?? throw Validation("null", "documentName", "Member must not be null");
        if (documentName is not (RunCommandService.ShellDocument or RunCommandService.PowerShellDocument))
        {
            throw new AwsServiceException("InvalidDocument", $"Document with name {documentName} does not exist.");
        }

        if (input["Targets"] is JsonArray { Count: > 0 })
        {
            // Targets (tag queries) are not simulated; saying so beats silently targeting nothing.
            throw new AwsServiceException("InvalidParameters", "The sandbox supports InstanceIds only, not Targets.");
        }

        var ids = StrList(input, "InstanceIds");
        if (ids.Count > 50)
        {
            throw Validation("[" + string.Join(", ", ids) + "]", "instanceIds", "Member must have length less than or equal to 50");
        }

        if (ids.Count == 0)
        {
            throw new AwsServiceException("ValidationException", "Either InstanceIds or Targets must be specified.");
        }

        var parameters = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (input["Parameters"] is JsonObject parameterObject)
        {
            foreach (var (name, value) in parameterObject)
            {
                if (name is not ("commands" or "executionTimeout" or "workingDirectory"))
                {
                    throw new AwsServiceException("InvalidParameters", $"document {documentName} does not support parameter {name}.");
                }

                parameters[name] = value is JsonArray array ? [.. array.Select(v => v?.GetValue<string>() ?? "")] : [];
            }
        }

        if (!parameters.TryGetValue("commands", out var script) || script.Count == 0)
        {
            throw new AwsServiceException("InvalidParameters", "Parameter \"commands\" is required.");
        }

        if (parameters.TryGetValue("executionTimeout", out var timeout)
            && (timeout.Count != 1 || !int.TryParse(timeout[0], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds is < 1 or > 172800))
        {
            throw new AwsServiceException("InvalidParameters", "Parameter \"executionTimeout\" must be a number of seconds from 1 to 172800.");
        }

        var deliveryTimeout = input["TimeoutSeconds"] is JsonValue tv ? tv.GetValue<int>() : 3600;
        if (deliveryTimeout is < 30 or > 2592000)
        {
            throw Validation(deliveryTimeout.ToString(CultureInfo.InvariantCulture), "timeoutSeconds", deliveryTimeout < 30 ? "Member must have value greater than or equal to 30" : "Member must have value less than or equal to 2592000");
        }

        // Any id that is not a managed, online node of this account and region fails the whole call, as on AWS.
        var targets = new List<SandboxInstance>();
        var invalid = new List<string>();
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            var instance = fleet.Find(id);
            if (instance is null || instance.AccountId != call.AccountId || instance.Region != call.Region || !instance.IsManagedOnline)
            {
                invalid.Add(id);
            }
            else
            {
                targets.Add(instance);
            }
        }

        if (invalid.Count > 0)
        {
            throw new AwsServiceException("InvalidInstanceId", $"Instances [[{string.Join(", ", invalid)}]] not in a valid state for account {call.AccountId}");
        }

        var command = commands.Send(call.AccountId, call.Region, documentName, parameters, targets, Str(input, "Comment") ?? "", deliveryTimeout, Str(input, "MaxConcurrency") ?? "50", Str(input, "MaxErrors") ?? "0");
        return new JsonObject { ["Command"] = CommandJson(command) };
    }

    private JsonObject GetCommandInvocation(AwsCall call, JsonObject input)
    {
        var commandId = Str(input, "CommandId") ?? throw Validation("null", "commandId", "Member must not be null");
        var instanceId = Str(input, "InstanceId") ?? throw Validation("null", "instanceId", "Member must not be null");
        var command = commands.Find(commandId);
        var invocation = command is not null && command.AccountId == call.AccountId && command.Region == call.Region && commands.IsVisible(command)
            ? command.Invocations.FirstOrDefault(i => i.InstanceId == instanceId && commands.IsVisible(i))
            : null;
        if (command is null || invocation is null)
        {
            throw new AwsServiceException("InvocationDoesNotExist", "");
        }

        var plugin = PluginName(command);
        if (Str(input, "PluginName") is { } requested && requested != plugin)
        {
            throw new AwsServiceException("InvalidPluginName", "");
        }

        var s = invocation.Snapshot();
        return new JsonObject
        {
            ["CommandId"] = command.CommandId,
            ["InstanceId"] = invocation.InstanceId,
            ["Comment"] = command.Comment,
            ["DocumentName"] = command.DocumentName,
            ["DocumentVersion"] = "$DEFAULT",
            ["PluginName"] = plugin,
            ["ResponseCode"] = s.Code,
            ["ExecutionStartDateTime"] = StringDate(s.Started),
            ["ExecutionElapsedTime"] = s.Started is { } started ? ElapsedTime((s.Finished ?? time.GetUtcNow()) - started) : "",
            ["ExecutionEndDateTime"] = StringDate(s.Finished),
            ["Status"] = s.Status,
            ["StatusDetails"] = s.Details,
            ["StandardOutputContent"] = Cut(s.Out, StandardOutputLimit),
            ["StandardOutputUrl"] = "",
            ["StandardErrorContent"] = Cut(s.Err, StandardErrorLimit),
            ["StandardErrorUrl"] = "",
            ["CloudWatchOutputConfig"] = new JsonObject { ["CloudWatchLogGroupName"] = "", ["CloudWatchOutputEnabled"] = false },
        };
    }

    private JsonObject ListCommandInvocations(AwsCall call, JsonObject input)
    {
        var maxResults = Int(input, "MaxResults") ?? 50;
        if (maxResults is < 1 or > 50)
        {
            throw Validation(maxResults.ToString(CultureInfo.InvariantCulture), "maxResults", maxResults < 1 ? "Member must have value greater than or equal to 1" : "Member must have value less than or equal to 50");
        }

        var details = input["Details"] is JsonValue d && d.GetValue<bool>();
        var instanceId = Str(input, "InstanceId");
        IEnumerable<CommandRecord> scope;
        if (Str(input, "CommandId") is { } commandId)
        {
            if (!Guid.TryParse(commandId, out _))
            {
                throw new AwsServiceException("InvalidCommandId", "");
            }

            var command = commands.Find(commandId);
            scope = command is not null && command.AccountId == call.AccountId && command.Region == call.Region ? [command] : [];
        }
        else
        {
            scope = commands.InScope(call.AccountId, call.Region);
        }

        var all = scope.Where(commands.IsVisible)
            .SelectMany(c => c.Invocations.Select(i => (Command: c, Invocation: i)))
            .Where(x => (instanceId is null || x.Invocation.InstanceId == instanceId) && commands.IsVisible(x.Invocation))
            .ToList();
        var offset = AwsPaging.Offset(Str(input, "NextToken"), "InvalidNextToken");
        var page = all.Skip(offset).Take(maxResults).ToList();
        var list = new JsonArray();
        foreach (var (command, invocation) in page)
        {
            var s = invocation.Snapshot();
            var item = new JsonObject
            {
                ["CommandId"] = command.CommandId,
                ["InstanceId"] = invocation.InstanceId,
                ["InstanceName"] = invocation.InstanceName,
                ["Comment"] = command.Comment,
                ["DocumentName"] = command.DocumentName,
                ["DocumentVersion"] = "$DEFAULT",
                ["RequestedDateTime"] = Epoch(command.RequestedAt),
                ["Status"] = s.Status,
                ["StatusDetails"] = s.Details,
                ["TraceOutput"] = "",
                ["StandardOutputUrl"] = "",
                ["StandardErrorUrl"] = "",
                ["CommandPlugins"] = new JsonArray(),
                ["ServiceRole"] = "",
                ["NotificationConfig"] = new JsonObject { ["NotificationArn"] = "", ["NotificationEvents"] = new JsonArray(), ["NotificationType"] = "" },
                ["CloudWatchOutputConfig"] = new JsonObject { ["CloudWatchLogGroupName"] = "", ["CloudWatchOutputEnabled"] = false },
            };
            if (details)
            {
                var plugin = new JsonObject
                {
                    ["Name"] = PluginName(command),
                    ["Status"] = s.Status switch { "Delayed" => "Pending", "Cancelling" => "InProgress", var other => other },
                    ["StatusDetails"] = s.Details,
                    ["ResponseCode"] = s.Code,
                    ["Output"] = Cut(PluginOutput(s.Out, s.Err), PluginOutputLimit),
                    ["StandardOutputUrl"] = "",
                    ["StandardErrorUrl"] = "",
                    ["OutputS3Region"] = call.Region,
                    ["OutputS3BucketName"] = "",
                    ["OutputS3KeyPrefix"] = "",
                };
                if (s.Started is { } started)
                {
                    plugin["ResponseStartDateTime"] = Epoch(started);
                }

                if (s.Finished is { } finished)
                {
                    plugin["ResponseFinishDateTime"] = Epoch(finished);
                }

                item["CommandPlugins"] = new JsonArray(plugin);
            }

            list.Add(item);
        }

        var result = new JsonObject { ["CommandInvocations"] = list };
        if (offset + page.Count < all.Count)
        {
            result["NextToken"] = AwsPaging.Token(offset + page.Count);
        }

        return result;
    }

    private JsonObject DescribeInstanceInformation(AwsCall call, JsonObject input)
    {
        var maxResults = Int(input, "MaxResults") ?? 50;
        if (maxResults is < 5 or > 50)
        {
            throw Validation(maxResults.ToString(CultureInfo.InvariantCulture), "maxResults", maxResults < 5 ? "Member must have value greater than or equal to 5" : "Member must have value less than or equal to 50");
        }

        var filters = new List<(string Key, List<string> Values)>();
        if (input["InstanceInformationFilterList"] is JsonArray { Count: > 0 } legacy)
        {
            if (input["Filters"] is JsonArray { Count: > 0 })
            {
                throw new AwsServiceException("InvalidFilter", "InstanceInformationFilterList and Filters cannot be used together.");
            }

            filters.AddRange(legacy.OfType<JsonObject>().Select(f => (Str(f, "key") ?? "", StrList(f, "valueSet"))));
        }
        else if (input["Filters"] is JsonArray modern)
        {
            filters.AddRange(modern.OfType<JsonObject>().Select(f => (Str(f, "Key") ?? "", StrList(f, "Values"))));
        }

        IEnumerable<SandboxInstance> nodes = fleet.InScope(call.AccountId, call.Region)
            .Where(i => i.State is InstanceState.Running or InstanceState.Pending or InstanceState.Stopping && i.Ssm != SsmStatus.None);
        foreach (var (key, values) in filters)
        {
            if (values.Count == 0)
            {
                throw new AwsServiceException("InvalidFilterValue", $"Filter {key} needs at least one value.");
            }

            nodes = key switch
            {
                "InstanceIds" => nodes.Where(i => values.Contains(i.Id)),
                "PingStatus" => nodes.Where(i => values.Contains(PingStatus(i))),
                "PlatformTypes" => nodes.Where(i => values.Contains(PlatformType(i))),
                "ResourceType" => nodes.Where(i => values.Contains("EC2Instance")),
                "AssociationStatus" => nodes.Where(i => values.Contains("Success")),
                "tag-key" => nodes.Where(i => values.Any(i.Tags.ContainsKey)),
                _ when key.StartsWith("tag:", StringComparison.Ordinal) => nodes.Where(i => i.Tags.TryGetValue(key[4..], out var v) && values.Contains(v)),
                _ => throw new AwsServiceException("InvalidFilterKey", $"The filter key {key} is not valid."),
            };
        }

        var all = nodes.ToList();
        var offset = AwsPaging.Offset(Str(input, "NextToken"), "InvalidNextToken");
        var page = all.Skip(offset).Take(maxResults);
        var now = time.GetUtcNow();
        var list = new JsonArray();
        foreach (var instance in page)
        {
            var online = PingStatus(instance) == "Online";
            var windows = instance.Platform == InstancePlatform.Windows;
            list.Add(new JsonObject
            {
                ["InstanceId"] = instance.Id,
                ["PingStatus"] = PingStatus(instance),
                ["LastPingDateTime"] = Epoch(online ? now.AddSeconds(-17) : now.AddHours(-6)),
                ["AgentVersion"] = "3.3.1142.0",
                ["IsLatestVersion"] = false,
                ["PlatformType"] = PlatformType(instance),
                ["PlatformName"] = windows ? "Microsoft Windows Server 2022 Datacenter" : "Amazon Linux",
                ["PlatformVersion"] = windows ? "10.0.20348" : "2023",
                ["IamRole"] = "AmazonSSMRoleForInstancesQuickSetup",
                ["ResourceType"] = "EC2Instance",
                ["IPAddress"] = instance.PrivateIpAddress,
                ["ComputerName"] = windows ? "EC2AMAZ-" + instance.Id[^7..].ToUpperInvariant() : instance.PrivateDnsName,
                ["AssociationStatus"] = "Success",
                ["LastAssociationExecutionDate"] = Epoch(now.AddMinutes(-42)),
                ["LastSuccessfulAssociationExecutionDate"] = Epoch(now.AddMinutes(-42)),
                ["AssociationOverview"] = new JsonObject
                {
                    ["DetailedStatus"] = "Success",
                    ["InstanceAssociationStatusAggregatedCount"] = new JsonObject { ["Success"] = 1 },
                },
                ["SourceId"] = instance.Id,
                ["SourceType"] = "AWS::EC2::Instance",
            });
        }

        var result = new JsonObject { ["InstanceInformationList"] = list };
        if (offset + maxResults < all.Count)
        {
            result["NextToken"] = AwsPaging.Token(offset + maxResults);
        }

        return result;
    }

    private JsonObject CancelCommand(AwsCall call, JsonObject input)
    {
        var commandId = Str(input, "CommandId") ?? throw Validation("null", "commandId", "Member must not be null");
        var command = commands.Find(commandId);
        if (command is null || command.AccountId != call.AccountId || command.Region != call.Region)
        {
            throw new AwsServiceException("InvalidCommandId", "");
        }

        var ids = StrList(input, "InstanceIds");
        if (ids.FirstOrDefault(id => !command.InstanceIds.Contains(id)) is { } unknown)
        {
            throw new AwsServiceException("InvalidInstanceId", $"Instances [[{unknown}]] not in a valid state for account {call.AccountId}");
        }

        commands.Cancel(command, ids);
        return [];
    }

    private JsonObject CommandJson(CommandRecord command)
    {
        var parameters = new JsonObject();
        foreach (var (name, values) in command.Parameters)
        {
            parameters[name] = new JsonArray([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);
        }

        var statuses = command.Invocations.Select(i => i.Snapshot().Status).ToList();
        return new JsonObject
        {
            ["CommandId"] = command.CommandId,
            ["DocumentName"] = command.DocumentName,
            ["DocumentVersion"] = "$DEFAULT",
            ["Comment"] = command.Comment,
            ["ExpiresAfter"] = Epoch(command.RequestedAt.AddSeconds(command.TimeoutSeconds)),
            ["Parameters"] = parameters,
            ["InstanceIds"] = new JsonArray([.. command.InstanceIds.Select(v => (JsonNode?)JsonValue.Create(v))]),
            ["Targets"] = new JsonArray(),
            ["RequestedDateTime"] = Epoch(command.RequestedAt),
            ["Status"] = command.Status,
            ["StatusDetails"] = command.Status,
            ["OutputS3Region"] = command.Region,
            ["OutputS3BucketName"] = "",
            ["OutputS3KeyPrefix"] = "",
            ["MaxConcurrency"] = command.MaxConcurrency,
            ["MaxErrors"] = command.MaxErrors,
            ["TargetCount"] = command.Invocations.Count,
            ["CompletedCount"] = statuses.Count(s => s is "Success" or "Failed" or "TimedOut" or "Cancelled"),
            ["ErrorCount"] = statuses.Count(s => s is "Failed" or "TimedOut"),
            ["DeliveryTimedOutCount"] = command.Invocations.Count(i => i.Snapshot().Details == "DeliveryTimedOut"),
            ["ServiceRole"] = "",
            ["NotificationConfig"] = new JsonObject { ["NotificationArn"] = "", ["NotificationEvents"] = new JsonArray(), ["NotificationType"] = "" },
            ["CloudWatchOutputConfig"] = new JsonObject { ["CloudWatchLogGroupName"] = "", ["CloudWatchOutputEnabled"] = false },
            ["TimeoutSeconds"] = command.TimeoutSeconds,
            ["TriggeredAlarms"] = new JsonArray(),
        };
    }

    private static string PluginName(CommandRecord command) =>
        command.DocumentName == RunCommandService.PowerShellDocument ? "aws:runPowerShellScript" : "aws:runShellScript";

    private static string PingStatus(SandboxInstance instance) => instance.IsManagedOnline ? "Online" : "ConnectionLost";

    private static string PlatformType(SandboxInstance instance) => instance.Platform == InstancePlatform.Windows ? "Windows" : "Linux";

    // ListCommandInvocations shows one plugin output: standard output, then standard error under a separator.
    private static string PluginOutput(string stdout, string stderr) =>
        stderr.Length == 0 ? stdout : stdout + "\n----------ERROR-------\n" + stderr;

    private static string Cut(string text, int limit) => text.Length <= limit ? text : text[..limit];

    private static double Epoch(DateTimeOffset at) => Math.Round(at.ToUnixTimeMilliseconds() / 1000.0, 3);

    private static string StringDate(DateTimeOffset? at) =>
        at is { } value ? value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) : "";

    private static string ElapsedTime(TimeSpan elapsed) =>
        "PT" + elapsed.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "S";

    private static AwsServiceException Validation(string value, string member, string constraint) =>
        new("ValidationException", $"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}");

    private static string? Str(JsonObject o, string name) =>
        o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static int? Int(JsonObject o, string name) =>
        o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? v.GetValue<int>() : null;

    private static List<string> StrList(JsonObject o, string name) =>
        o[name] is JsonArray a ? [.. a.Select(v => v is JsonValue s && s.GetValueKind() == JsonValueKind.String ? s.GetValue<string>() : "")] : [];
}
