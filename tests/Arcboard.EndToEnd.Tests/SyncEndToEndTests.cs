using System.Text.Json;
using Arcboard.Sandbox.Hosting;

namespace Arcboard.EndToEnd.Tests;

/// <summary>
/// The whole flow through the real clients: the AWS SDK and Azure.Core talking HTTP(S) to the sandbox, instances
/// running the scripts with /bin/sh and hosted PowerShell, the agent proving its key, SQLite keeping state.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class SyncEndToEndTests : IAsyncLifetime
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("arcboard-e2e-");
    private SandboxHost _sandbox = null!;
    private string _config = null!;

    public async Task InitializeAsync()
    {
        (_sandbox, _config) = await FleetFiles.StartMixedSandboxAsync(_folder.FullName, linux: 20, windows: 20);
    }

    public async Task DisposeAsync()
    {
        await _sandbox.DisposeAsync();
        _folder.Delete(recursive: true);
    }

    [Fact]
    public async Task Onboards_every_eligible_instance_once_and_a_second_sync_changes_nothing()
    {
        var first = await CliRun.InProcessAsync("sync", "--config", _config, "--output", "json");

        first.ExitCode.ShouldBe(0, first.Error);
        using var report = JsonDocument.Parse(first.Out);
        var summary = report.RootElement.GetProperty("summary");
        summary.GetProperty("onboarded").GetInt32().ShouldBe(40);
        summary.GetProperty("alreadyConnected").GetInt32().ShouldBe(1);
        summary.GetProperty("skipped").GetInt32().ShouldBe(4);
        summary.GetProperty("failed").GetInt32().ShouldBe(0);

        var instances = report.RootElement.GetProperty("instances").EnumerateArray().ToList();
        instances.Count.ShouldBe(45);
        instances.Where(i => i.GetProperty("outcome").GetString() == "Onboarded")
            .Select(i => i.GetProperty("platform").GetString())
            .GroupBy(p => p).ToDictionary(g => g.Key!, g => g.Count())
            .ShouldBe(new Dictionary<string, int> { ["Linux"] = 20, ["Windows"] = 20 }, ignoreOrder: true);
        instances.ShouldAllBe(i => i.GetProperty("reason").GetString()!.Length > 0);

        // Azure's side of the story, read from the sandbox itself rather than from the connector.
        var created = _sandbox.Azure.ListMachines().Where(m => m.Tags.ContainsKey("arcboard-managed-by")).ToList();
        created.Count.ShouldBe(40);
        created.ShouldAllBe(m => m.Status == "Connected");
        created.Select(m => m.Name).Distinct().Count().ShouldBe(40);
        created.ShouldAllBe(m => m.ResourceGroup == "aws_111111111111" || m.ResourceGroup == "aws_222222222222");
        foreach (var onboarded in instances.Where(i => i.GetProperty("outcome").GetString() == "Onboarded"))
        {
            var id = onboarded.GetProperty("azureResourceId").GetString()!;
            created.ShouldContain(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase));
        }

        // Each instance's agent reports Connected on its own disk, and its private key is gone once used.
        foreach (var instance in _sandbox.Fleet.Instances.Where(i => created.Any(m => m.Name == i.Id)))
        {
            Directory.EnumerateFiles(instance.RootDirectory, "genPrivateKey.pem", SearchOption.AllDirectories).ShouldBeEmpty();
        }

        var sendsBefore = _sandbox.Stats.Count("ssm", "SendCommand");
        var armBefore = ArmWrites();

        var second = await CliRun.InProcessAsync("sync", "--config", _config, "--output", "json");

        second.ExitCode.ShouldBe(0, second.Error);
        using var again = JsonDocument.Parse(second.Out);
        again.RootElement.GetProperty("summary").GetProperty("onboarded").GetInt32().ShouldBe(0);
        again.RootElement.GetProperty("summary").GetProperty("alreadyConnected").GetInt32().ShouldBe(41);
        _sandbox.Stats.Count("ssm", "SendCommand").ShouldBe(sendsBefore);
        ArmWrites().ShouldBe(armBefore);
        _sandbox.Azure.ListMachines().Count(m => m.Tags.ContainsKey("arcboard-managed-by")).ShouldBe(40);

        var status = await CliRun.InProcessAsync("status", "--config", _config, "--output", "json");
        status.ExitCode.ShouldBe(0, status.Error);
        using var known = JsonDocument.Parse(status.Out);
        known.RootElement.GetProperty("summary").GetProperty("connected").GetInt32().ShouldBe(40);
    }

    [Fact]
    public async Task Human_output_is_a_table_on_stdout_with_progress_on_stderr()
    {
        var run = await CliRun.InProcessAsync("sync", "--config", _config);

        run.ExitCode.ShouldBe(0, run.Error);
        run.Out.ShouldContain("Onboarded");
        File.WriteAllText("/tmp/e2e-err.txt", run.Error);
        run.Out.Split('\n').ShouldContain(l => l.StartsWith("45 instances: 40 onboarded, 1 already connected, 4 skipped, 0 failed", StringComparison.Ordinal), run.Out[^Math.Min(1500, run.Out.Length)..]);
        run.Error.ShouldContain("genkey for");
        run.Error.ShouldContain("connect for");
    }

    private long ArmWrites() =>
        _sandbox.Stats.Snapshot().TryGetValue("arm", out var operations)
            ? operations.Where(o => !o.Key.StartsWith("Get", StringComparison.Ordinal) && !o.Key.StartsWith("List", StringComparison.Ordinal)).Sum(o => o.Value)
            : 0;
}
