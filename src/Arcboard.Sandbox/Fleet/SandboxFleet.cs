using System.Security.Cryptography;

namespace Arcboard.Sandbox.Fleet;

/// <summary>The live fleet: accounts, their regions and instances, each instance with its own root folder.</summary>
public sealed class SandboxFleet
{
    private readonly Lock _lock = new();
    private readonly List<SandboxInstance> _instances = [];
    private readonly Dictionary<string, SandboxInstance> _byId = new(StringComparer.Ordinal);
    private readonly List<(string Account, List<string> Regions)> _accounts = [];
    private readonly string _instancesDirectory;
    private readonly TimeProvider _time;
    private readonly bool _createRootFolders;

    /// <param name="createRootFolders">False leaves each instance's root folder to whoever first writes under it.</param>
    public SandboxFleet(FleetDefinition definition, string dataDirectory, TimeProvider time, bool createRootFolders = true)
    {
        _time = time;
        _createRootFolders = createRootFolders;
        _instancesDirectory = Path.Combine(dataDirectory, "instances");
        Directory.CreateDirectory(_instancesDirectory);
        foreach (var account in definition.Accounts)
        {
            _accounts.Add((account.Id, [.. account.Regions]));
        }

        // Launch times spread over the past weeks, stable per position, as a fleet that grew over time.
        var now = time.GetUtcNow();
        var index = 0;
        foreach (var instance in definition.Instances)
        {
            Add(instance, now.AddMinutes(-37 * (definition.Instances.Count - index)), index);
            index++;
        }
    }

    public IReadOnlyList<string> AccountIds
    {
        get { lock (_lock) { return [.. _accounts.Select(a => a.Account)]; } }
    }

    public IReadOnlyList<string> RegionsOf(string accountId)
    {
        lock (_lock)
        {
            return _accounts.FirstOrDefault(a => a.Account == accountId).Regions?.ToArray() ?? [];
        }
    }

    public bool HasAccount(string accountId)
    {
        lock (_lock)
        {
            return _accounts.Any(a => a.Account == accountId);
        }
    }

    /// <summary>Every instance, in launch order.</summary>
    public IReadOnlyList<SandboxInstance> Instances
    {
        get { lock (_lock) { return [.. _instances]; } }
    }

    public SandboxInstance? Find(string instanceId)
    {
        lock (_lock)
        {
            return _byId.GetValueOrDefault(instanceId);
        }
    }

    public IReadOnlyList<SandboxInstance> InScope(string accountId, string region)
    {
        lock (_lock)
        {
            return [.. _instances.Where(i => i.AccountId == accountId && i.Region == region)];
        }
    }

    /// <summary>Launches a new running instance, as RunInstances would; the region is added to the account when new.</summary>
    public SandboxInstance Launch(string accountId, string region, InstancePlatform platform, IReadOnlyDictionary<string, string>? tags, SsmStatus ssm, AgentStatus agent)
    {
        lock (_lock)
        {
            var account = _accounts.FindIndex(a => a.Account == accountId);
            if (account < 0)
            {
                throw new SandboxConfigurationException($"account '{accountId}' is not in the fleet; known accounts: {string.Join(", ", _accounts.Select(a => a.Account))}.");
            }

            if (!_accounts[account].Regions.Contains(region))
            {
                _accounts[account].Regions.Add(region);
            }

            string id;
            do
            {
                id = "i-0" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            }
            while (_byId.ContainsKey(id));

            var definition = new InstanceDefinition(accountId, region, id, platform, InstanceState.Running, ssm, agent, tags ?? new Dictionary<string, string>());
            return Add(definition, _time.GetUtcNow(), _instances.Count);
        }
    }

    /// <summary>Moves an instance to a new state; false when the transition is not allowed (terminated instances stay terminated).</summary>
    public bool Transition(string instanceId, InstanceState target)
    {
        var instance = Find(instanceId);
        if (instance is null || instance.State == InstanceState.Terminated)
        {
            return false;
        }

        instance.SetState(target);
        return true;
    }

    public bool SetSsm(string instanceId, SsmStatus ssm)
    {
        var instance = Find(instanceId);
        instance?.SetSsm(ssm);
        return instance is not null;
    }

    private SandboxInstance Add(InstanceDefinition definition, DateTimeOffset launchTime, int index)
    {
        var root = Path.Combine(_instancesDirectory, definition.Id);
        if (_createRootFolders)
        {
            Directory.CreateDirectory(root);
        }

        var instance = new SandboxInstance(definition, root, launchTime, index);
        lock (_lock)
        {
            _instances.Add(instance);
            _byId[instance.Id] = instance;
        }

        return instance;
    }
}
