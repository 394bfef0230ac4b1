using System.Collections.Concurrent;
using System.Security.Cryptography;
using Arcboard.Core.Cloud;
using Arcboard.Core.Fleet;
using Arcboard.Core.Onboarding;
using Arcboard.Core.State;

namespace Arcboard.Core.Tests.Onboarding;

/// <summary>A simulated instance as the fakes see it.</summary>
internal sealed class FakeInstance(string id, Platform platform = Platform.Linux)
{
    public string Id { get; } = id;
    public Platform Platform { get; } = platform;
    public string State { get; set; } = "running";
    public string? Ping { get; set; } = "Online";
    public bool AgentInstalled { get; set; } = true;
    public bool AgentConnected { get; set; }
    public string? SavedPublicKey { get; set; }
    public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, the instance answers every script with this output instead of running it.</summary>
    public string? GarbageOutput { get; set; }

    /// <summary>The genkey command sent to this instance stays in progress until <see cref="FakeAws.ReleaseHeld"/>.</summary>
    public bool HoldGenkey { get; set; }
}

internal sealed class FakeAws : IAwsInventory, IRunCommand
{
    private readonly ConcurrentDictionary<string, List<CommandInvocation>> _commands = new();
    private readonly FakeArm _arm;
    private int _next;

    public FakeAws(FakeArm arm, params FakeInstance[] instances)
    {
        _arm = arm;
        Instances = instances.ToList();
    }

    public static readonly AwsScope Scope = new("111111111111", "us-east-1");

    public List<FakeInstance> Instances { get; }
    public List<(string CommandId, string Script, string[] InstanceIds)> Sent { get; } = [];
    public int ListCalls;

    /// <summary>Thrown by the next SendAsync after it has delivered the command, to play a crash right after sending.</summary>
    public Exception? ThrowAfterNextSend { get; set; }

    /// <summary>How many of the next sends are refused with SSM's ThrottlingException before one goes through.</summary>
    public int ThrottleSends;

    public int GetCalls;

    private readonly ConcurrentDictionary<string, List<CommandInvocation>> _held = new();

    /// <summary>When true, sent commands never finish.</summary>
    public bool Hang { get; set; }

    /// <summary>
    /// When set, the EC2 listing answers only once the SSM listing has been asked for, as it would if both were slow: a
    /// caller that reads them one after the other fails with a timeout.
    /// </summary>
    public bool ListingsMustOverlap { get; set; }

    private readonly TaskCompletionSource _nodesListed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task<IReadOnlyList<Ec2Instance>> ListInstancesAsync(AwsScope scope, CancellationToken cancellationToken)
    {
        if (ListingsMustOverlap)
        {
            await _nodesListed.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        }

        return Instances
            .Select(i => new Ec2Instance(new InstanceKey(scope.AccountId, scope.Region, i.Id), i.Platform, i.State, new Dictionary<string, string>(i.Tags)))
            .ToList();
    }

    public Task<IReadOnlyList<SsmNode>> ListManagedNodesAsync(AwsScope scope, CancellationToken cancellationToken)
    {
        _nodesListed.TrySetResult();
        return Task.FromResult<IReadOnlyList<SsmNode>>(Instances
            .Where(i => i.Ping is not null && i.State == "running")
            .Select(i => new SsmNode(i.Id, i.Ping!, i.Platform.ToString()))
            .ToList());
    }

    public Task<string> SendAsync(AwsScope scope, Platform platform, IReadOnlyList<string> instanceIds, string script, TimeSpan executionTimeout, CancellationToken cancellationToken)
    {
        instanceIds.Count.ShouldBeLessThanOrEqualTo(IRunCommand.MaxInstancesPerCommand);
        if (Interlocked.Decrement(ref ThrottleSends) >= 0)
        {
            throw new CloudException("ssm", "ThrottlingException", "Rate exceeded", isTransient: true, null, 400);
        }

        var commandId = $"cmd-{Interlocked.Increment(ref _next)}";
        lock (Sent)
        {
            Sent.Add((commandId, script, instanceIds.ToArray()));
        }

        _commands[commandId] = Hang
            ? instanceIds.Select(id => new CommandInvocation(id, CommandStatus.InProgress, -1, "", "")).ToList()
            : instanceIds.Select(id => Run(Instances.Single(i => i.Id == id), script)).ToList();
        if (script.Contains("azcmagent genkey", StringComparison.Ordinal) && instanceIds.Any(id => Instances.Single(i => i.Id == id).HoldGenkey))
        {
            // A slow batch: its results exist but stay unseen until the test releases them.
            _held[commandId] = _commands[commandId];
            _commands[commandId] = instanceIds.Select(id => new CommandInvocation(id, CommandStatus.InProgress, -1, "", "")).ToList();
        }

        if (ThrowAfterNextSend is { } crash)
        {
            ThrowAfterNextSend = null;
            throw crash;
        }

        return Task.FromResult(commandId);
    }

    public Task<IReadOnlyList<CommandInvocation>> ListInvocationsAsync(AwsScope scope, string commandId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref ListCalls);
        return Task.FromResult<IReadOnlyList<CommandInvocation>>(_commands.TryGetValue(commandId, out var list) ? list : []);
    }

    public Task<CommandInvocation?> GetInvocationAsync(AwsScope scope, string commandId, string instanceId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref GetCalls);
        return Task.FromResult(_commands.TryGetValue(commandId, out var list) ? list.FirstOrDefault(i => i.InstanceId == instanceId) : null);
    }

    /// <summary>Lets the held results of every slow genkey command be seen.</summary>
    public void ReleaseHeld()
    {
        foreach (var (commandId, results) in _held)
        {
            _commands[commandId] = results;
        }

        _held.Clear();
    }

    public void Finish(string commandId) =>
        _commands[commandId] = _commands[commandId].Select(i => i with { Status = CommandStatus.Success }).ToList();

    /// <summary>
    /// A distinct, well-formed 2048-bit RSAPublicKey per call. Generating real key pairs costs tens of milliseconds each;
    /// the connector only ever sees the public half, and every instance must print a key of its own.
    /// </summary>
    public static string NewPublicKey()
    {
        var modulus = new byte[257];
        RandomNumberGenerator.Fill(modulus.AsSpan(1));
        modulus[1] |= 0x80;
        modulus[^1] |= 0x01;
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteIntegerUnsigned(modulus.AsSpan(1));
            writer.WriteInteger(65537);
        }

        return Convert.ToBase64String(writer.Encode());
    }

    /// <summary>When set, every genkey prints this key instead of a fresh one (a cloned disk).</summary>
    public string? SharedKey { get; set; }

    private CommandInvocation Run(FakeInstance instance, string script)
    {
        if (instance.GarbageOutput is { } garbage)
        {
            return new CommandInvocation(instance.Id, CommandStatus.Success, 0, garbage, "");
        }

        if (script.Contains("azcmagent genkey", StringComparison.Ordinal))
        {
            if (!instance.AgentInstalled)
            {
                return Ok(instance, "ARCBOARD-AGENT-ABSENT");
            }

            if (instance.AgentConnected)
            {
                return Ok(instance, "ARCBOARD-CONNECTED {\"status\":\"Connected\",\"resourceId\":\"/subscriptions/x/resourceGroups/other/providers/Microsoft.HybridCompute/machines/" + instance.Id + "\"}");
            }

            instance.SavedPublicKey = SharedKey ?? NewPublicKey();
            return Ok(instance, "ARCBOARD-KEY " + instance.SavedPublicKey);
        }

        if (script.Contains("connect existing", StringComparison.Ordinal))
        {
            script.ShouldContain($"'{instance.Id}'");
            var machine = _arm.Machines.Values.SingleOrDefault(m => m.Tags.GetValueOrDefault(OnboardingPolicy.InstanceTag)?.EndsWith("/" + instance.Id, StringComparison.Ordinal) == true);
            if (machine is null || machine.ClientPublicKey != instance.SavedPublicKey)
            {
                return new CommandInvocation(instance.Id, CommandStatus.Failed, 41, "ARCBOARD-CONNECT-EXIT 41", "AZCM0041: The proof of key possession was refused");
            }

            instance.AgentConnected = true;
            _arm.Machines[machine.Name] = machine with { Status = "Connected" };
            return Ok(instance, "ARCBOARD-CONNECT-EXIT 0");
        }

        throw new InvalidOperationException("unexpected script");
    }

    private static CommandInvocation Ok(FakeInstance instance, string stdout) => new(instance.Id, CommandStatus.Success, 0, stdout + "\n", "");
}

internal sealed class FakeArm : IArcMachines
{
    public ConcurrentDictionary<string, ArcMachine> Machines { get; } = new(StringComparer.OrdinalIgnoreCase);
    public ConcurrentBag<string> ResourceGroups { get; } = [];
    public int Writes;
    public int Reads;

    /// <summary>Errors thrown by the next calls of any kind, in order.</summary>
    public ConcurrentQueue<CloudException> Faults { get; } = new();

    /// <summary>Errors thrown by the next writes (resource group or machine PUTs), in order.</summary>
    public ConcurrentQueue<CloudException> WriteFaults { get; } = new();

    public Task EnsureResourceGroupAsync(string subscriptionId, string resourceGroup, string location, CancellationToken cancellationToken)
    {
        Fault();
        WriteFault();
        Interlocked.Increment(ref Writes);
        ResourceGroups.Add(resourceGroup);
        return Task.CompletedTask;
    }

    public Task<ArcMachine?> GetAsync(MachineRef machine, CancellationToken cancellationToken)
    {
        Fault();
        Interlocked.Increment(ref Reads);
        return Task.FromResult(Machines.GetValueOrDefault(machine.Name));
    }

    public Task<ArcMachine> PutAsync(MachineRef machine, MachineSpec spec, CancellationToken cancellationToken)
    {
        Fault();
        WriteFault();
        Interlocked.Increment(ref Writes);
        var existing = Machines.GetValueOrDefault(machine.Name);
        var created = new ArcMachine(machine.ResourceId, machine.Name, spec.Location, existing?.Status, existing?.VmId ?? spec.VmId, spec.ClientPublicKey, "Succeeded", null, spec.Tags);
        Machines[machine.Name] = created;
        return Task.FromResult(created);
    }

    public Task<IReadOnlyList<ArcMachine>> ListAsync(string subscriptionId, string resourceGroup, CancellationToken cancellationToken)
    {
        Fault();
        Interlocked.Increment(ref Reads);
        return Task.FromResult<IReadOnlyList<ArcMachine>>(Machines.Values.Where(m => m.Id.Contains($"/resourceGroups/{resourceGroup}/", StringComparison.OrdinalIgnoreCase)).ToList());
    }

    public Task DeleteAsync(MachineRef machine, CancellationToken cancellationToken)
    {
        Machines.TryRemove(machine.Name, out _);
        return Task.CompletedTask;
    }

    private void WriteFault()
    {
        if (WriteFaults.TryDequeue(out var fault))
        {
            throw fault;
        }
    }

    private void Fault()
    {
        if (Faults.TryDequeue(out var fault))
        {
            throw fault;
        }
    }
}

/// <summary>A store in memory; the SQLite store has its own tests.</summary>
internal sealed class MemoryStore : IStateStore
{
    private readonly ConcurrentDictionary<InstanceKey, InstanceRecord> _records = new();

    public int Saves;

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<InstanceRecord?> GetAsync(InstanceKey key, CancellationToken cancellationToken) => Task.FromResult(_records.GetValueOrDefault(key));

    public Task<IReadOnlyList<InstanceRecord>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<InstanceRecord>>(_records.Values.OrderBy(r => r.Key.ToString(), StringComparer.Ordinal).ToList());

    public Task<IReadOnlyList<InstanceRecord>> ListAsync(AwsScope scope, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<InstanceRecord>>(_records.Values.Where(r => r.Key.AccountId == scope.AccountId && r.Key.Region == scope.Region).ToList());

    /// <summary>When it returns an error for a record, saving that record fails with it, as a full disk would.</summary>
    public Func<InstanceRecord, Exception?>? FailSave { get; set; }

    public Task SaveAsync(InstanceRecord record, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Saves);
        if (FailSave?.Invoke(record) is { } error)
        {
            return Task.FromException(error);
        }

        _records[record.Key] = record;
        return Task.CompletedTask;
    }

    /// <summary>Calls to SaveAllAsync, each one transaction in a real store.</summary>
    public int SaveAllCalls;

    public Task SaveAllAsync(IReadOnlyCollection<InstanceRecord> records, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref SaveAllCalls);
        if (records.Select(r => FailSave?.Invoke(r)).FirstOrDefault(e => e is not null) is { } error)
        {
            return Task.FromException(error);
        }

        foreach (var record in records)
        {
            _records[record.Key] = record;
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<InstanceKey>> FindByPublicKeyAsync(string publicKey, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<InstanceKey>>(_records.Values.Where(r => r.PublicKey == publicKey).Select(r => r.Key).ToList());

    public Task DeleteAsync(InstanceKey key, CancellationToken cancellationToken)
    {
        _records.TryRemove(key, out _);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> CheckIntegrityAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([]);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public InstanceRecord Get(string instanceId) => _records.Values.Single(r => r.Key.InstanceId == instanceId);
}

internal sealed class FixedPlacement : IMachinePlacement
{
    public Placement Place(Ec2Instance instance) => new($"aws_{instance.Key.AccountId}", instance.Key.InstanceId, "eastus", null);
}
