namespace Arcboard.Sandbox.Fleet;

/// <summary>
/// Generates a realistic fleet for <c>--instances N --seed S</c>: the same seed always gives the same fleet.
/// Proportions are quotas rather than independent rolls so that small fleets still hold every kind of instance.
/// </summary>
public static class FleetGenerator
{
    public static readonly AccountDefinition[] DefaultAccounts =
    [
        new("111111111111", ["us-east-1", "eu-west-1"]),
        new("222222222222", ["us-west-2", "ap-southeast-2"]),
    ];

    private static readonly string[] Envs = ["prod", "prod", "staging", "dev", "test"];
    private static readonly string[] Teams = ["payments", "search", "platform", "data", "identity", "web"];
    private static readonly string[] Roles = ["web", "api", "worker", "db", "cache", "batch", "bastion"];

    public static FleetDefinition Generate(int count, int seed)
    {
        if (count < 0)
        {
            throw new SandboxConfigurationException($"--instances: {count} is not allowed; use 0 or more.");
        }

        var random = new Random(seed);
        var kinds = new List<Kind>(count);
        Add(kinds, Kind.Stopped, Quota(count, 0.08));
        Add(kinds, Kind.NoSsm, Quota(count, 0.05));
        Add(kinds, Kind.SsmOffline, Quota(count, 0.05));
        Add(kinds, Kind.NoAgent, Quota(count, 0.05));
        Add(kinds, Kind.Connected, Quota(count, 0.05));
        Add(kinds, Kind.Ready, count - kinds.Count);
        Shuffle(kinds, random);

        var windows = new bool[count];
        for (var i = 0; i < Quota(count, 0.25); i++)
        {
            windows[i] = true;
        }

        Shuffle(windows, random);

        var scopes = DefaultAccounts.SelectMany(a => a.Regions.Select(r => (Account: a.Id, Region: r))).ToArray();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var instances = new List<InstanceDefinition>(count);
        for (var i = 0; i < count; i++)
        {
            string id;
            do
            {
                id = "i-0" + RandomHex(random, 16);
            }
            while (!ids.Add(id));

            var (account, region) = scopes[random.Next(scopes.Length)];
            var env = Envs[random.Next(Envs.Length)];
            var team = Teams[random.Next(Teams.Length)];
            var role = Roles[random.Next(Roles.Length)];
            var tags = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["Name"] = $"{team}-{role}-{i + 1:D4}",
                ["env"] = env,
                ["team"] = team,
            };
            if (random.NextDouble() < 0.3)
            {
                tags["cost-center"] = $"cc-{random.Next(100, 999)}";
            }

            var kind = kinds[i];
            instances.Add(new InstanceDefinition(
                account,
                region,
                id,
                windows[i] ? InstancePlatform.Windows : InstancePlatform.Linux,
                kind == Kind.Stopped ? InstanceState.Stopped : InstanceState.Running,
                kind switch { Kind.NoSsm => SsmStatus.None, Kind.SsmOffline => SsmStatus.Offline, _ => SsmStatus.Online },
                kind switch { Kind.NoAgent => AgentStatus.None, Kind.Connected => AgentStatus.Connected, _ => AgentStatus.Installed },
                tags));
        }

        return new FleetDefinition(null, DefaultAccounts, instances);
    }

    private static int Quota(int count, double share) => count == 0 ? 0 : (int)Math.Round(count * share, MidpointRounding.AwayFromZero);

    private static void Add(List<Kind> kinds, Kind kind, int n)
    {
        for (var i = 0; i < n; i++)
        {
            kinds.Add(kind);
        }
    }

    private static void Shuffle<T>(IList<T> items, Random random)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static string RandomHex(Random random, int digits)
    {
        const string hex = "0123456789abcdef";
        return string.Create(digits, random, static (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = hex[r.Next(16)];
            }
        });
    }

    private enum Kind
    {
        Ready,
        Stopped,
        NoSsm,
        SsmOffline,
        NoAgent,
        Connected,
    }
}
