using Arcboard.Aws;
using Arcboard.Azure;
using Arcboard.Core.Cleanup;
using Arcboard.Core.Cloud.Pacing;
using Arcboard.Core.Configuration;
using Arcboard.Core.Onboarding;
using Arcboard.Core.State;
using Arcboard.Store.Sqlite;
using Microsoft.Extensions.Logging;

namespace Arcboard.Cli.Composition;

/// <summary>The connector wired for one configuration: the real AWS and Azure adapters, the SQLite store, the reconciler.</summary>
public sealed class Connector : IAsyncDisposable
{
    private readonly AwsClientFactory _awsClients;

    private Connector(ArcboardOptions options, AwsClientFactory awsClients, IStateStore store, OnboardingReconciler reconciler, MachineCleaner cleaner)
    {
        Options = options;
        _awsClients = awsClients;
        Store = store;
        Reconciler = reconciler;
        Cleaner = cleaner;
    }

    public ArcboardOptions Options { get; }
    public IStateStore Store { get; }
    public OnboardingReconciler Reconciler { get; }
    public MachineCleaner Cleaner { get; }

    public static async Task<Connector> CreateAsync(ArcboardOptions options, ILoggerFactory loggers, TimeProvider time, CancellationToken cancellationToken, OnboardingStrategy strategy = OnboardingStrategy.Batched)
    {
        var store = new GroupCommitStateStore(await OpenStoreAsync(options, time, cancellationToken).ConfigureAwait(false));
        var awsClients = new AwsClientFactory(options.Aws);
        var credential = AzureCredentialFactory.Create(options.Azure);
        var policy = OnboardingPolicies.From(options) with { Strategy = strategy };
        // One gate for the whole process: every call to a quota, from any account, region or step, waits its turn there.
        var gate = new QuotaGate(time, key => QuotaLimit.DefaultFor(key, policy.MaxParallelArmCalls).Scaled(options.Onboarding.QuotaScale));
        var gateLog = loggers.CreateLogger<QuotaGate>();
        gate.Throttled += (key, pause) => gateLog.LogDebug("{Quota} throttled; every caller waits {Seconds:0.0} s", key, pause.TotalSeconds);
        var arm = new PacedArcMachines(new ArmMachinesClient(options.Azure, credential, ArmClientOptions.For(options.Azure), time, gate), gate);
        var inventory = new PacedInventory(new Ec2SsmInventory(awsClients), gate);
        var runCommand = new PacedRunCommand(new SsmRunCommand(awsClients, policy.DeliveryGrace), gate);
        var reconciler = new OnboardingReconciler(
            inventory,
            runCommand,
            arm,
            store,
            policy,
            time,
            loggers.CreateLogger<OnboardingReconciler>());
        var cleaner = new MachineCleaner(inventory, runCommand, arm, store, CleanupPolicies.From(options), time, loggers.CreateLogger<MachineCleaner>());
        return new Connector(options, awsClients, store, reconciler, cleaner);
    }

    public static async Task<IStateStore> OpenStoreAsync(ArcboardOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        var store = new SqliteStateStore(options.Store.Sqlite, time);
        try
        {
            await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Reconciler.Dispose();
        Cleaner.Dispose();
        _awsClients.Dispose();
        await Store.DisposeAsync().ConfigureAwait(false);
    }
}
