using System.Text.Json;

namespace Arcboard.Bench;

/// <summary>One account and region of the benchmark fleet and how many of its instances run Windows.</summary>
public sealed record FleetScope(string AccountId, string Region, int Instances, int Windows);

/// <summary>
/// The benchmark's fleet: every instance eligible (running, SSM online, agent installed, not connected), spread over two
/// accounts and three regions, a fifth of them Windows. The same size and seed always give the same fleet, so both
/// strategies onboard exactly the same instances.
/// </summary>
public sealed class BenchFleet
{
    public const double WindowsShare = 0.2;

    private static readonly (string Account, string Region, double Share)[] Layout =
    [
        ("111111111111", "us-east-1", 0.4),
        ("111111111111", "eu-west-1", 0.3),
        ("222222222222", "us-west-2", 0.3),
    ];

    private readonly List<(string Id, int Scope, bool Windows)> _instances;

    private BenchFleet(int seed, List<(string Id, int Scope, bool Windows)> instances, IReadOnlyList<FleetScope> scopes)
    {
        Seed = seed;
        _instances = instances;
        Scopes = scopes;
    }

    public int Seed { get; }

    public int Instances => _instances.Count;

    public IReadOnlyList<FleetScope> Scopes { get; }

    public int Accounts => Scopes.Select(s => s.AccountId).Distinct().Count();

    public static BenchFleet Generate(int instances, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(instances);
        var random = new Random(seed);
        var perScope = new int[Layout.Length];
        for (var i = 0; i < Layout.Length; i++)
        {
            perScope[i] = (int)Math.Floor(instances * Layout[i].Share);
        }

        // What flooring left over goes to the first scopes, so the counts always add up.
        for (var i = 0; perScope.Sum() < instances; i++)
        {
            perScope[i % perScope.Length]++;
        }

        var windows = new bool[instances];
        var windowsCount = (int)Math.Round(instances * WindowsShare, MidpointRounding.AwayFromZero);
        for (var i = 0; i < windowsCount; i++)
        {
            windows[i] = true;
        }

        random.Shuffle(windows);

        var ids = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<(string Id, int Scope, bool Windows)>(instances);
        var index = 0;
        for (var scope = 0; scope < perScope.Length; scope++)
        {
            for (var k = 0; k < perScope[scope]; k++)
            {
                string id;
                do
                {
                    id = "i-0" + Convert.ToHexStringLower(RandomBytes(random, 8));
                }
                while (!ids.Add(id));

                list.Add((id, scope, windows[index++]));
            }
        }

        var scopes = Layout.Select((l, i) => new FleetScope(l.Account, l.Region, perScope[i], list.Count(x => x.Scope == i && x.Windows))).ToArray();
        return new BenchFleet(seed, list, scopes);
    }

    /// <summary>The fleet file (docs/contracts.md section 4) the sandbox loads.</summary>
    public void WriteFleetFile(Stream stream)
    {
        using var json = new Utf8JsonWriter(stream);
        json.WriteStartObject();
        json.WriteStartArray("accounts");
        foreach (var account in Scopes.Select(s => s.AccountId).Distinct())
        {
            json.WriteStartObject();
            json.WriteString("id", account);
            json.WriteStartArray("regions");
            for (var scope = 0; scope < Scopes.Count; scope++)
            {
                if (Scopes[scope].AccountId != account)
                {
                    continue;
                }

                json.WriteStartObject();
                json.WriteString("name", Scopes[scope].Region);
                json.WriteStartArray("instances");
                var n = 0;
                foreach (var instance in _instances.Where(x => x.Scope == scope))
                {
                    json.WriteStartObject();
                    json.WriteString("id", instance.Id);
                    json.WriteString("platform", instance.Windows ? "windows" : "linux");
                    json.WriteString("state", "running");
                    json.WriteString("ssm", "online");
                    json.WriteString("agent", "installed");
                    json.WriteStartObject("tags");
                    json.WriteString("Name", $"bench-{Scopes[scope].Region}-{++n:D5}");
                    json.WriteEndObject();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>The fewest SendCommand calls one step can take: one per 50 instances of one platform in one scope.</summary>
    public int MinimumCommandsPerStep() =>
        Scopes.Sum(s => Batches(s.Instances - s.Windows) + Batches(s.Windows));

    public FleetShape Shape(int resourceGroups) => new([.. Scopes.Select(s => s.Instances)], resourceGroups);

    private static int Batches(int n) => (n + 49) / 50;

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
