using System.Text;
using Arcboard.Sandbox.Hosting;

namespace Arcboard.EndToEnd.Tests;

/// <summary>Writes fleet files for the sandbox, in the documented YAML schema.</summary>
public static class FleetFiles
{
    /// <summary>
    /// <paramref name="linux"/> and <paramref name="windows"/> onboardable instances in two accounts and two regions,
    /// plus one of every kind that must not be onboarded.
    /// </summary>
    public static string Mixed(string folder, int linux, int windows)
    {
        var instances = new List<(string Account, string Region, string Line)>();
        var n = 0;
        string Next() => $"i-{++n:x17}";
        (string, string) Place(int i) => (i % 2 == 0 ? "111111111111" : "222222222222", i % 4 < 2 ? "us-east-1" : "eu-west-1");

        for (var i = 0; i < linux; i++)
        {
            var (account, region) = Place(i);
            instances.Add((account, region, $"{{ id: {Next()}, platform: linux, state: running, ssm: online, agent: installed, tags: {{ Name: web-{i} }} }}"));
        }

        for (var i = 0; i < windows; i++)
        {
            var (account, region) = Place(i);
            instances.Add((account, region, $"{{ id: {Next()}, platform: windows, state: running, ssm: online, agent: installed, tags: {{ Name: win-{i} }} }}"));
        }

        instances.Add(("111111111111", "us-east-1", $"{{ id: {Next()}, platform: linux, state: stopped, ssm: online, agent: installed }}"));
        instances.Add(("111111111111", "us-east-1", $"{{ id: {Next()}, platform: linux, state: running, ssm: none, agent: installed }}"));
        instances.Add(("222222222222", "eu-west-1", $"{{ id: {Next()}, platform: windows, state: running, ssm: offline, agent: installed }}"));
        instances.Add(("222222222222", "us-east-1", $"{{ id: {Next()}, platform: linux, state: running, ssm: online, agent: none }}"));
        instances.Add(("111111111111", "eu-west-1", $"{{ id: {Next()}, platform: windows, state: running, ssm: online, agent: connected }}"));

        var yaml = new StringBuilder("accounts:\n");
        foreach (var account in instances.GroupBy(i => i.Account).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            yaml.Append($"  - id: \"{account.Key}\"\n    regions:\n");
            foreach (var region in account.GroupBy(i => i.Region))
            {
                yaml.Append($"      - name: {region.Key}\n        instances:\n");
                foreach (var instance in region)
                {
                    yaml.Append($"          - {instance.Line}\n");
                }
            }
        }

        var path = Path.Combine(folder, "fleet.yaml");
        File.WriteAllText(path, yaml.ToString());
        return path;
    }

    /// <summary>
    /// A sandbox on <see cref="Mixed"/>'s fleet with its data under <paramref name="folder"/>, and the connector's config
    /// written next to it (the store at <c>state/arcboard.db</c> under the same folder).
    /// </summary>
    public static async Task<(SandboxHost Sandbox, string Config)> StartMixedSandboxAsync(string folder, int linux, int windows)
    {
        var fleet = Mixed(folder, linux, windows);
        var sandbox = await SandboxHost.StartAsync(new SandboxOptions { FleetFile = fleet, DataDirectory = Path.Combine(folder, "sandbox") }, CancellationToken.None);
        var config = Path.Combine(folder, "arcboard.json");
        await sandbox.WriteConfigFileAsync(config, "state/arcboard.db");
        return (sandbox, config);
    }
}
