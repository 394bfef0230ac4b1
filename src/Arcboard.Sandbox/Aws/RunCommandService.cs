using System.Collections.Concurrent;
using System.Text;
using Arcboard.Sandbox.Admin;
using Arcboard.Sandbox.Fleet;
using Arcboard.Sandbox.Instances;

namespace Arcboard.Sandbox.Aws;

/// <summary>One invocation: one command on one instance.</summary>
public sealed class InvocationRecord(string instanceId, string instanceName, InstancePlatform platform)
{
    private readonly Lock _lock = new();

    public string InstanceId { get; } = instanceId;
    public string InstanceName { get; } = instanceName;
    public InstancePlatform Platform { get; } = platform;
    public CancellationTokenSource Cancellation { get; } = new();

    public string Status { get; private set; } = "Pending";
    public string StatusDetails { get; private set; } = "Pending";
    public int ResponseCode { get; private set; } = -1;
    public DateTimeOffset? Started { get; private set; }
    public DateTimeOffset? Finished { get; private set; }
    public string StandardOutput { get; private set; } = "";
    public string StandardError { get; private set; } = "";

    /// <summary>Until when the invocation-missing fault hides it from the API; null when it is never hidden.</summary>
    public DateTimeOffset? HiddenUntil { get; internal set; }

    public bool IsTerminal => Status is "Success" or "Failed" or "TimedOut" or "Cancelled";

    public (string Status, string Details, int Code, DateTimeOffset? Started, DateTimeOffset? Finished, string Out, string Err) Snapshot()
    {
        lock (_lock)
        {
            return (Status, StatusDetails, ResponseCode, Started, Finished, StandardOutput, StandardError);
        }
    }

    internal void Start(DateTimeOffset at)
    {
        lock (_lock)
        {
            if (Status == "Pending")
            {
                Status = StatusDetails = "InProgress";
                Started = at;
            }
        }
    }

    internal void RequestCancel()
    {
        lock (_lock)
        {
            if (IsTerminal)
            {
                return;
            }

            Status = StatusDetails = "Cancelling";
        }

        Cancellation.Cancel();
    }

    internal void Complete(string status, string details, int code, string stdout, string stderr, DateTimeOffset at)
    {
        lock (_lock)
        {
            Status = status;
            StatusDetails = details;
            ResponseCode = code;
            StandardOutput = stdout;
            StandardError = stderr;
            // An invocation that was never delivered never started.
            if (details is not ("DeliveryTimedOut" or "Undeliverable"))
            {
                Started ??= at;
            }

            Finished = at;
        }
    }
}

/// <summary>A command sent with SendCommand.</summary>
public sealed class CommandRecord
{
    public required string CommandId { get; init; }
    public required string AccountId { get; init; }
    public required string Region { get; init; }
    public required string DocumentName { get; init; }
    public string Comment { get; init; } = "";
    public required IReadOnlyDictionary<string, IReadOnlyList<string>> Parameters { get; init; }
    public required IReadOnlyList<string> InstanceIds { get; init; }
    public required DateTimeOffset RequestedAt { get; init; }
    public required DateTimeOffset VisibleAt { get; init; }
    public required int TimeoutSeconds { get; init; }
    public string MaxConcurrency { get; init; } = "50";
    public string MaxErrors { get; init; } = "0";
    public required IReadOnlyList<InvocationRecord> Invocations { get; init; }

    /// <summary>The command's status from its invocations, as SSM aggregates them.</summary>
    public string Status
    {
        get
        {
            var statuses = Invocations.Select(i => i.Snapshot().Status).ToList();
            if (statuses.All(s => s == "Pending"))
            {
                return "Pending";
            }

            if (statuses.Any(s => s is "Pending" or "InProgress" or "Delayed"))
            {
                return "InProgress";
            }

            if (statuses.Any(s => s == "Cancelling"))
            {
                return "Cancelling";
            }

            return statuses.All(s => s == "Success") ? "Success"
                : statuses.Any(s => s == "Cancelled") ? "Cancelled"
                : statuses.Any(s => s == "TimedOut") ? "TimedOut"
                : "Failed";
        }
    }
}

/// <summary>
/// Run Command's engine: accepts commands, runs each invocation asynchronously on its instance, and keeps the results.
/// Instance-level faults (<see cref="InstanceFaults"/>) are drawn per invocation when the command is sent.
/// </summary>
/// <remarks>
/// <paramref name="instanceScheduler"/> runs the invocations' own work (the default is the thread pool). Modelled
/// instances stand for thousands of machines that each have their own processor; run straight on the pool, a thousand of
/// them queue the services' request handling behind their work and the API answers seconds late. A scheduler that lets
/// only a few of them onto the pool at once keeps the services answering while the fleet works.
/// </remarks>
public sealed class RunCommandService(IScriptRunner runner, TimeProvider time, TimeSpan invocationDelay, SandboxFleet? fleet = null, InstanceFaults? faults = null, SandboxStats? stats = null, InstanceLatencies? latencies = null, TaskScheduler? instanceScheduler = null) : IDisposable
{
    public const string ShellDocument = "AWS-RunShellScript";
    public const string PowerShellDocument = "AWS-RunPowerShellScript";

    private readonly ConcurrentDictionary<string, CommandRecord> _commands = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<CommandRecord> _order = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ConcurrentDictionary<Task, byte> _running = new();
    private readonly Dictionary<string, (string CommandId, InvocationRecord Invocation)> _latestByInstance = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<CommandOverlap> _overlaps = new();

    public TimeSpan InvocationDelay { get; set; } = invocationDelay;

    /// <summary>Every command that reached an instance whose previous invocation had not finished, oldest first.</summary>
    public IReadOnlyList<CommandOverlap> Overlaps => [.. _overlaps];

    public CommandRecord? Find(string commandId) => _commands.GetValueOrDefault(commandId);

    /// <summary>Every command of one account and region, newest first.</summary>
    public IEnumerable<CommandRecord> InScope(string accountId, string region) =>
        _order.Where(c => c.AccountId == accountId && c.Region == region).Reverse();

    public bool IsVisible(CommandRecord command) => time.GetUtcNow() >= command.VisibleAt;

    /// <summary>False while the invocation-missing fault hides this invocation.</summary>
    public bool IsVisible(InvocationRecord invocation) => invocation.HiddenUntil is not { } until || time.GetUtcNow() >= until;

    public InstanceFaults Faults { get; } = faults ?? new InstanceFaults(1);

    public InstanceLatencies Latencies { get; } = latencies ?? InstanceLatencies.Zero;

    /// <summary>Records a validated command and starts its invocations.</summary>
    public CommandRecord Send(string accountId, string region, string documentName, IReadOnlyDictionary<string, IReadOnlyList<string>> parameters, IReadOnlyList<SandboxInstance> targets, string comment, int timeoutSeconds, string maxConcurrency, string maxErrors)
    {
        var now = time.GetUtcNow();
        var command = new CommandRecord
        {
            CommandId = Guid.NewGuid().ToString(),
            AccountId = accountId,
            Region = region,
            DocumentName = documentName,
            Comment = comment,
            Parameters = parameters,
            InstanceIds = [.. targets.Select(t => t.Id)],
            RequestedAt = now,
            VisibleAt = now + InvocationDelay,
            TimeoutSeconds = timeoutSeconds,
            MaxConcurrency = maxConcurrency,
            MaxErrors = maxErrors,
            Invocations = [.. targets.Select(t => new InvocationRecord(t.Id, t.Name, t.Platform))],
        };
        _commands[command.CommandId] = command;
        _order.Enqueue(command);
        RecordOverlaps(command, now);

        var executionTimeout = TimeSpan.FromSeconds(parameters.TryGetValue("executionTimeout", out var t) && int.TryParse(t.FirstOrDefault(), out var seconds) ? seconds : 3600);
        var workingDirectory = parameters.TryGetValue("workingDirectory", out var w) ? w.FirstOrDefault() : null;
        var script = string.Join("\n", parameters.TryGetValue("commands", out var c) ? c : []);
        for (var i = 0; i < targets.Count; i++)
        {
            var invocation = command.Invocations[i];
            var request = new ScriptRequest(targets[i], command.CommandId, script, executionTimeout, string.IsNullOrEmpty(workingDirectory) ? null : workingDirectory);
            // Drawn here, in request order, so a seed replays the same faults whatever the thread timing.
            var fault = Faults.Draw(targets[i].Id);
            if (fault is not null)
            {
                stats?.RecordFault(InstanceFaults.ToWire(fault.Kind));
                if (fault.Kind == InstanceFaultKind.InvocationMissing)
                {
                    invocation.HiddenUntil = now + fault.EffectiveDuration;
                }
            }

            // The invocation's awaits keep to the scheduler it starts on, so the whole run stays within its bound.
            var task = Task.Factory.StartNew(
                () => RunInvocationAsync(command, invocation, request, fault),
                CancellationToken.None,
                TaskCreationOptions.DenyChildAttach,
                instanceScheduler ?? TaskScheduler.Default).Unwrap();
            _running[task] = 0;
            _ = task.ContinueWith(done => _running.TryRemove(done, out _), TaskScheduler.Default);
        }

        return command;
    }

    private void RecordOverlaps(CommandRecord command, DateTimeOffset at)
    {
        lock (_latestByInstance)
        {
            foreach (var invocation in command.Invocations)
            {
                if (_latestByInstance.TryGetValue(invocation.InstanceId, out var earlier) && !earlier.Invocation.IsTerminal)
                {
                    _overlaps.Enqueue(new CommandOverlap(invocation.InstanceId, earlier.CommandId, earlier.Invocation.Snapshot().Status, command.CommandId, at));
                }

                _latestByInstance[invocation.InstanceId] = (command.CommandId, invocation);
            }
        }
    }

    public void Cancel(CommandRecord command, IReadOnlyCollection<string>? instanceIds)
    {
        foreach (var invocation in command.Invocations)
        {
            if (instanceIds is null || instanceIds.Count == 0 || instanceIds.Contains(invocation.InstanceId))
            {
                invocation.RequestCancel();
            }
        }
    }

    private async Task RunInvocationAsync(CommandRecord command, InvocationRecord invocation, ScriptRequest request, InstanceFaultRule? fault)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(invocation.Cancellation.Token, _shutdown.Token);
        var token = linked.Token;
        var wantsWindows = command.DocumentName == PowerShellDocument;
        if (wantsWindows != (request.Instance.Platform == InstancePlatform.Windows))
        {
            // Real SSM delivers the document and its plugin fails on the instance: the same here.
            var plugin = wantsWindows ? "aws:runPowerShellScript" : "aws:runShellScript";
            invocation.Complete("Failed", "Failed", 1, "", $"Plugin with name {plugin} is not supported by the operating system of instance {request.Instance.Id}.", time.GetUtcNow());
            return;
        }

        try
        {
            // Deadlines, not durations: they count from the request or the start, however late this task gets going.
            var deliveryDeadline = command.RequestedAt.AddSeconds(command.TimeoutSeconds);
            switch (fault?.Kind)
            {
                case InstanceFaultKind.DeliveryTimeout:
                    await DelayUntilAsync(deliveryDeadline, token);
                    invocation.Complete("TimedOut", "DeliveryTimedOut", -1, "", "", time.GetUtcNow());
                    return;
                case InstanceFaultKind.InstanceStop:
                    fleet?.Transition(request.Instance.Id, InstanceState.Stopped);
                    await DelayUntilAsync(deliveryDeadline, token);
                    invocation.Complete("TimedOut", "DeliveryTimedOut", -1, "", "", time.GetUtcNow());
                    return;
                case InstanceFaultKind.InstanceTerminate:
                    fleet?.Transition(request.Instance.Id, InstanceState.Terminated);
                    await DelayAsync(Latencies.Delivery, token);
                    invocation.Complete("Failed", "Undeliverable", -1, "", "", time.GetUtcNow());
                    return;
            }

            await DelayAsync(Latencies.Delivery, token);
            switch (fault?.Kind)
            {
                case InstanceFaultKind.CommandFail:
                    invocation.Start(time.GetUtcNow());
                    await DelayAsync(Latencies.ScriptRun, token);
                    var linux = request.Instance.Platform == InstancePlatform.Linux;
                    invocation.Complete("Failed", "Failed", 1, "", "sandbox fault command-fail: the script stopped with exit status 1" + (linux ? "\nfailed to run commands: exit status 1" : ""), time.GetUtcNow());
                    return;
                case InstanceFaultKind.CommandHang or InstanceFaultKind.SsmLost:
                    var started = time.GetUtcNow();
                    invocation.Start(started);
                    if (fault.Kind == InstanceFaultKind.SsmLost)
                    {
                        fleet?.SetSsm(request.Instance.Id, SsmStatus.Offline);
                    }

                    await DelayUntilAsync(started + request.Timeout, token);
                    invocation.Complete("TimedOut", "ExecutionTimedOut", -1, "", "Command execution timed out.", time.GetUtcNow());
                    return;
            }

            var result = await runner.RunAsync(request, () => invocation.Start(time.GetUtcNow()), token);
            if (fault?.Kind == InstanceFaultKind.InstanceReboot && result.Outcome == ScriptOutcome.Completed)
            {
                // The script's effects stay on disk; what it printed and its exit code are lost with the reboot.
                var back = time.GetUtcNow() + fault.EffectiveDuration;
                fleet?.SetSsm(request.Instance.Id, SsmStatus.Offline);
                await DelayUntilAsync(back, token);
                fleet?.SetSsm(request.Instance.Id, SsmStatus.Online);
                invocation.Complete("Failed", "Failed", -1, "", "", time.GetUtcNow());
                return;
            }

            var output = fault?.Kind switch
            {
                InstanceFaultKind.OutputTruncated => result.StandardOutput[..(result.StandardOutput.Length / 2)],
                InstanceFaultKind.OutputGarbage => Garble(result.StandardOutput, Faults.NextRandom()),
                _ => result.StandardOutput,
            };
            var (status, details) = result.Outcome switch
            {
                ScriptOutcome.TimedOut => ("TimedOut", "ExecutionTimedOut"),
                ScriptOutcome.Cancelled => ("Cancelled", "Cancelled"),
                _ when result.ExitCode == 0 => ("Success", "Success"),
                _ => ("Failed", "Failed"),
            };
            invocation.Complete(status, details, result.ExitCode, output, result.StandardError, time.GetUtcNow());
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            invocation.Complete("Cancelled", "Cancelled", -1, "", "", time.GetUtcNow());
        }
        catch (Exception ex)
        {
            // A broken simulation must show up as a failed invocation, never as one stuck InProgress.
            invocation.Complete("Failed", "Failed", 1, "", "sandbox: the instance could not run the script: " + ex.Message, time.GetUtcNow());
        }
    }

    private Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        delay > TimeSpan.Zero ? Task.Delay(delay, time, cancellationToken) : Task.CompletedTask;

    private Task DelayUntilAsync(DateTimeOffset deadline, CancellationToken cancellationToken) =>
        DelayAsync(deadline - time.GetUtcNow(), cancellationToken);

    // Keeps each line's first word (a marker stays recognisable) and replaces the rest with characters that look like data.
    private static string Garble(string text, int seed)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=%$#@!~";
        var random = new Random(seed);
        var garbled = new StringBuilder(text.Length + 16);
        foreach (var line in text.Split('\n'))
        {
            if (garbled.Length > 0)
            {
                garbled.Append('\n');
            }

            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var keep = space < 0 ? 0 : space + 1;
            garbled.Append(line, 0, keep);
            var length = line.Length == 0 ? 0 : Math.Max(8, line.Length - keep);
            for (var i = 0; i < length; i++)
            {
                garbled.Append(Alphabet[random.Next(Alphabet.Length)]);
            }
        }

        return garbled.ToString();
    }

    /// <summary>Stops running scripts and waits for them, for the host's shutdown.</summary>
    public async Task StopAsync()
    {
        await _shutdown.CancelAsync();
        await Task.WhenAll(_running.Keys);
    }

    public void Dispose() => _shutdown.Dispose();
}
