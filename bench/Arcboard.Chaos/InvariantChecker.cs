using Arcboard.Sandbox.Azure;
using Arcboard.Sandbox.Fleet;
using Arcboard.Sandbox.Hosting;

namespace Arcboard.Chaos;

/// <summary>What the sandbox's ARM and fleet show, judged against the invariants (never the connector's own store).</summary>
public sealed record MachineVerdict(
    IReadOnlyList<string> Violations,
    IReadOnlyList<string> AwaitingCleanup,
    int Eligible,
    int Onboarded,
    int MachinesForNowIneligible);

/// <summary>
/// Reads Azure and the fleet straight from a running sandbox. An instance is eligible when it runs, its SSM agent is
/// online and its Arc agent is installed but was not connected by someone else; Arcboard's machines are those tagged
/// <c>arcboard-managed-by=arcboard</c>, and <c>arcboard-instance</c> names the instance each belongs to.
/// </summary>
public sealed class InvariantChecker(SandboxHost sandbox, IReadOnlyList<SandboxMachine> foreignAtStart)
{
    public const string ManagedByTag = "arcboard-managed-by";
    public const string InstanceTag = "arcboard-instance";

    public static string KeyOf(SandboxInstance instance) => $"{instance.AccountId}/{instance.Region}/{instance.Id}";

    public static bool IsEligible(SandboxInstance instance) =>
        instance.State == InstanceState.Running && instance.Ssm == SsmStatus.Online && instance.InitialAgent == AgentStatus.Installed;

    public static bool IsArcboards(SandboxMachine machine) =>
        machine.Tags.TryGetValue(ManagedByTag, out var by) && by == "arcboard";

    /// <summary>Instances holding more than one of Arcboard's machines right now, each as a sentence.</summary>
    public IReadOnlyList<string> Duplicates() =>
        [.. sandbox.Azure.ListMachines()
            .Where(IsArcboards)
            .GroupBy(m => m.Tags.GetValueOrDefault(InstanceTag) ?? "", StringComparer.Ordinal)
            .Where(g => g.Count() > 1)
            .Select(g => $"instance {g.Key} has {g.Count()} machines: {string.Join(", ", g.Select(m => m.Id))}")];

    /// <summary>
    /// The end-state invariants. A machine left for a terminated instance is a violation when
    /// <paramref name="cleanupExpected"/>, and is listed as awaiting clean-up otherwise.
    /// </summary>
    public MachineVerdict Check(bool cleanupExpected)
    {
        var violations = new List<string>();
        var awaitingCleanup = new List<string>();
        var machines = sandbox.Azure.ListMachines();
        var instances = sandbox.Fleet.Instances.ToDictionary(KeyOf, StringComparer.Ordinal);
        var arcboards = machines.Where(IsArcboards).ToList();
        var byInstance = arcboards.ToLookup(m => m.Tags.GetValueOrDefault(InstanceTag) ?? "", StringComparer.Ordinal);

        var eligible = sandbox.Fleet.Instances.Where(IsEligible).ToList();
        var onboarded = 0;
        foreach (var instance in eligible)
        {
            var own = byInstance[KeyOf(instance)].ToList();
            switch (own.Count)
            {
                case 0:
                    violations.Add($"eligible instance {KeyOf(instance)} has no Arc machine");
                    break;
                case > 1:
                    violations.Add($"eligible instance {KeyOf(instance)} has {own.Count} Arc machines: {string.Join(", ", own.Select(m => m.Id))}");
                    break;
                default:
                    if (own[0].Status == "Connected")
                    {
                        onboarded++;
                    }
                    else
                    {
                        violations.Add($"eligible instance {KeyOf(instance)} has its machine {own[0].Id} in status {own[0].Status ?? "(none)"}, not Connected");
                    }

                    break;
            }
        }

        var nowIneligible = 0;
        foreach (var group in byInstance)
        {
            if (!instances.TryGetValue(group.Key, out var instance))
            {
                violations.AddRange(group.Select(m => $"machine {m.Id} is tagged for '{group.Key}', which no instance of the fleet is"));
                continue;
            }

            if (IsEligible(instance))
            {
                continue;
            }

            if (instance.State == InstanceState.Terminated)
            {
                var lines = group.Select(m => $"machine {m.Id} remains for terminated instance {group.Key}");
                (cleanupExpected ? violations : awaitingCleanup).AddRange(lines);
            }
            else if (instance.InitialAgent != AgentStatus.Installed)
            {
                // Arcboard must never have created anything for an instance with no agent or with someone else's.
                violations.AddRange(group.Select(m => $"machine {m.Id} was created for {group.Key}, whose agent was {instance.InitialAgent.ToString().ToLowerInvariant()} and not Arcboard's to connect"));
            }
            else
            {
                // Stopped or lost SSM during the run: the machine waits for the instance to come back, as designed.
                nowIneligible += group.Count();
            }
        }

        foreach (var foreign in foreignAtStart)
        {
            var now = machines.FirstOrDefault(m => string.Equals(m.Id, foreign.Id, StringComparison.OrdinalIgnoreCase));
            if (now is null)
            {
                violations.Add($"machine {foreign.Id}, which Arcboard did not create, was deleted");
            }
            else if (now.VmId != foreign.VmId || now.ClientPublicKey != foreign.ClientPublicKey || IsArcboards(now) || now.Status != foreign.Status)
            {
                violations.Add($"machine {foreign.Id}, which Arcboard did not create, was changed");
            }
        }

        return new MachineVerdict(violations, awaitingCleanup, eligible.Count, onboarded, nowIneligible);
    }
}
