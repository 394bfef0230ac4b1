using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Arcboard.Sandbox.Admin;
using Arcboard.Sandbox.Aws;
using Arcboard.Sandbox.Azure;
using Arcboard.Sandbox.Fleet;
using Arcboard.Sandbox.Instances;
using Arcboard.Sandbox.Realism;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Arcboard.Sandbox.Hosting;

/// <summary>
/// A running sandbox: AWS (SSM, EC2, STS) and the admin surface over HTTP, Azure (ARM, token, identity) over HTTPS,
/// both on loopback in one Kestrel application, and the simulated fleet behind them.
/// </summary>
public sealed class SandboxHost : IAsyncDisposable
{
    // The AWS region to Azure location map of Azure's own connector (REFERENCE.md section 6), for seeded machines.
    private static readonly Dictionary<string, string> Locations = new(StringComparer.Ordinal)
    {
        ["ap-southeast-1"] = "southeastasia",
        ["ap-northeast-1"] = "southeastasia",
        ["ap-northeast-3"] = "southeastasia",
        ["ap-south-1"] = "southeastasia",
        ["ap-southeast-2"] = "australiaeast",
        ["eu-west-1"] = "westeurope",
        ["eu-central-1"] = "westeurope",
        ["eu-north-1"] = "westeurope",
        ["eu-west-2"] = "uksouth",
        ["sa-east-1"] = "brazilsouth",
    };

    private readonly WebApplication _app;
    private readonly RunCommandService _commands;
    private readonly IScriptRunner _runner;
    private readonly SandboxCertificate _certificate;
    private readonly SandboxOptions _options;

    private SandboxHost(WebApplication app, SandboxOptions options, SandboxEndpoints endpoints, SandboxFleet fleet, AzureCloud azure, SandboxStats stats, RunCommandService commands, IScriptRunner runner, SandboxCertificate certificate, string dataDirectory, SandboxRealism realism)
    {
        Realism = realism;
        Faults = new SandboxFaults(realism.HttpFaults);
        _app = app;
        _options = options;
        Endpoints = endpoints;
        Fleet = fleet;
        Azure = azure;
        Stats = stats;
        _commands = commands;
        _runner = runner;
        _certificate = certificate;
        DataDirectory = dataDirectory;
    }

    public SandboxEndpoints Endpoints { get; }
    public SandboxFleet Fleet { get; }
    public AzureCloud Azure { get; }
    public SandboxStats Stats { get; }
    public string DataDirectory { get; }

    /// <summary>The latencies and quotas this sandbox applies (also served at <c>GET /_sandbox/profile</c>).</summary>
    public SandboxProfile Profile => Realism.Profile;

    /// <summary>Faults to inject while running, for in-process tests: <c>host.Faults.Http.Next("arm-429", 20)</c>.</summary>
    public SandboxFaults Faults { get; }

    /// <summary>The profile with its token buckets and the clock they run on.</summary>
    public SandboxRealism Realism { get; }

    public InstanceMode InstanceMode => _options.InstanceMode;

    /// <summary>What the instances simulate rather than run for real (empty in process mode); served at <c>GET /_sandbox/modelled</c>.</summary>
    public IReadOnlyList<string> Modelled => _runner.Modelled;

    /// <summary>Instance-level faults; the same rules as <c>/_sandbox/faults/instances</c>.</summary>
    public InstanceFaults InstanceFaults => _commands.Faults;

    /// <summary>Commands sent to an instance while its previous invocation was still Pending or InProgress.</summary>
    public IReadOnlyList<CommandOverlap> CommandOverlaps => _commands.Overlaps;

    /// <summary>How long GetCommandInvocation keeps answering InvocationDoesNotExist after SendCommand; changeable while running.</summary>
    public TimeSpan InvocationDelay
    {
        get => _commands.InvocationDelay;
        set => _commands.InvocationDelay = value;
    }

    public static async Task<SandboxHost> StartAsync(SandboxOptions options, CancellationToken cancellationToken)
    {
        var time = options.Time ?? TimeProvider.System;
        var definition = options.FleetFile is { } file ? FleetFile.Load(file) : FleetGenerator.Generate(options.Instances, options.Seed);
        if (definition.Accounts.Count == 0)
        {
            throw new SandboxConfigurationException("the fleet has no account.");
        }

        var dataDirectory = Path.GetFullPath(options.DataDirectory ?? Path.Combine(Path.GetTempPath(), "arcboard-sandbox-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))));
        Directory.CreateDirectory(dataDirectory);

        var awsPort = options.AwsPort == 0 ? FreePort() : options.AwsPort;
        var httpsPort = options.HttpsPort == 0 ? FreePort() : options.HttpsPort;
        var awsBase = $"http://127.0.0.1:{awsPort}";
        var httpsBase = $"https://127.0.0.1:{httpsPort}";

        var stats = new SandboxStats();
        var realism = new SandboxRealism(options.Profile, time, options.Seed);
        foreach (var (kind, rate) in options.HttpFaults)
        {
            if (HttpFaultKinds.Check(kind) is { } unknown)
            {
                throw new SandboxConfigurationException(unknown);
            }

            if (!double.IsFinite(rate) || rate is < 0 or > 1)
            {
                throw new SandboxConfigurationException($"the rate of fault {kind} must be between 0 and 1, not {rate}.");
            }

            realism.HttpFaults.Set(kind, rate);
        }

        var certificate = SandboxCertificate.Create(time);
        try
        {
            var caPath = Path.Combine(dataDirectory, "sandbox-ca.pem");
            certificate.WritePem(caPath);
            var azure = new AzureCloud(new AzureCloudOptions { SubscriptionId = definition.SubscriptionId ?? new AzureCloudOptions().SubscriptionId }, stats, time, realism);
            var modelled = options.InstanceMode == InstanceMode.Modelled;
            // Tens of thousands of empty folders cost time and inodes; modelled instances make theirs on first use.
            var fleet = new SandboxFleet(definition, dataDirectory, time, createRootFolders: !modelled);
            var binDirectory = Path.Combine(dataDirectory, "bin");
            AgentLauncher.Install(binDirectory);

            var environment = new InstanceEnvironment(httpsBase, caPath, binDirectory);
            var keys = modelled ? KeyPool.Shared : null;
            // Keys for every agent up front and in parallel, before anyone is watching the clock: on a real fleet each
            // instance makes its key on its own CPU, so a genkey must not compete with the services for the sandbox's.
            keys?.Prebuild(fleet.Instances.Count(i => i.InitialAgent != AgentStatus.None));
            var profileLatencies = options.Profile.Latencies;
            var latencies = options.InstanceLatencies
                ?? new InstanceLatencies(profileLatencies.CommandDelivery, profileLatencies.ScriptRun, profileLatencies.Genkey, profileLatencies.Connect);
            IScriptRunner runner = keys is not null
                ? new ModelledInstanceRunner(environment, keys, time, latencies, options.MaxConcurrentScripts > 0 ? options.MaxConcurrentScripts : 4 * Environment.ProcessorCount)
                : new InstanceRunner(environment, options.MaxConcurrentScripts > 0 ? options.MaxConcurrentScripts : 2 * Environment.ProcessorCount);
            // Modelled instances' work goes onto the pool a core's worth at a time (see RunCommandService); process-mode
            // instances mostly wait on the processes they start, so they keep the pool.
            var instanceScheduler = modelled ? new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, Environment.ProcessorCount).ConcurrentScheduler : null;
            var commands = new RunCommandService(runner, time, options.InvocationDelay, fleet, new InstanceFaults(options.Seed), stats, latencies, instanceScheduler);
            var accessKeyId = options.AccessKeyId ?? AwsCredentialStore.NewAccessKeyId();
            var secret = options.SecretAccessKey ?? AwsCredentialStore.RandomSecret(40);
            var credentials = new AwsCredentialStore(accessKeyId, secret, definition.Accounts[0].Id, time);
            var gateway = new AwsGateway(credentials, new SsmApi(fleet, commands, time), new Ec2Api(fleet), new StsApi(fleet, credentials), stats, time, realism);

            var seeder = new ConnectedAgentSeeder(azure, options.ExistingArcResourceGroup, time, keys is null ? () => RSA.Create(2048) : keys.Next);
            Parallel.ForEach(fleet.Instances.Where(i => i.InitialAgent == AgentStatus.Connected), new ParallelOptions { CancellationToken = cancellationToken }, seeder.Seed);

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrelHttpsConfiguration();
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.Listen(IPAddress.Loopback, awsPort);
                kestrel.Listen(IPAddress.Loopback, httpsPort, listen => listen.UseHttps(certificate.Certificate));
                // Run Command bodies and fleet launches are small; SendCommand scripts can reach 64 KB plus JSON.
                kestrel.Limits.MaxRequestBodySize = 4 * 1024 * 1024;
            });
            var app = builder.Build();
            app.UseRouting();
            // One application, two listeners: each route group answers only on its own.
            app.Use(async (context, next) =>
            {
                var listener = context.GetEndpoint()?.Metadata.GetMetadata<ListenerMetadata>();
                if (listener is not null && listener.Https != context.Request.IsHttps)
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
                }

                await next(context);
            });

            var http = app.MapGroup("").WithMetadata(new ListenerMetadata(false));
            http.MapPost("/", gateway.HandleAsync);
            http.MapGet("/", gateway.HandleAsync);
            AdminEndpoints.Map(http, fleet, stats, instance =>
            {
                if (instance.InitialAgent == AgentStatus.Connected)
                {
                    seeder.Seed(instance);
                }
            });
            RealismEndpoints.Map(http, realism);
            InstanceEndpoints.Map(http, options.InstanceMode, runner.Modelled, commands.Faults);
            http.MapGet("/_sandbox/commands/overlaps", () => Results.Json(commands.Overlaps));
            var https = app.MapGroup("").WithMetadata(new ListenerMetadata(true));
            azure.MapEndpoints(https);

            await app.StartAsync(cancellationToken);
            var endpoints = new SandboxEndpoints
            {
                AwsEndpoint = awsBase,
                Region = definition.Accounts[0].Regions.FirstOrDefault() ?? "us-east-1",
                AccessKeyId = accessKeyId,
                SecretAccessKey = secret,
                ArmEndpoint = httpsBase,
                AuthorityHost = httpsBase,
                IdentityEndpoint = httpsBase,
                TenantId = azure.Options.TenantId,
                ClientId = azure.Options.ClientId,
                ClientSecret = azure.Options.ClientSecret,
                SubscriptionId = azure.Options.SubscriptionId,
                CaCertificatePath = caPath,
                AdminUrl = awsBase + "/_sandbox",
                AccountIds = fleet.AccountIds,
            };
            return new SandboxHost(app, options, endpoints, fleet, azure, stats, commands, runner, certificate, dataDirectory, realism);
        }
        catch
        {
            certificate.Dispose();
            throw;
        }
    }

    /// <summary>Writes <c>export NAME='value'</c> lines a shell can source: the endpoints, keys and a long-lived ARM token.</summary>
    public async Task WriteEnvFileAsync(string path, CancellationToken cancellationToken = default)
    {
        var e = Endpoints;
        var lines = new (string Name, string Value)[]
        {
            ("SANDBOX_AWS_ENDPOINT", e.AwsEndpoint),
            ("SANDBOX_AWS_ACCESS_KEY_ID", e.AccessKeyId),
            ("SANDBOX_AWS_SECRET_ACCESS_KEY", e.SecretAccessKey),
            ("SANDBOX_AWS_REGION", e.Region),
            ("SANDBOX_ARM_ENDPOINT", e.ArmEndpoint),
            ("SANDBOX_ARM_TOKEN", Azure.IssueToken(TimeSpan.FromDays(7))),
            ("SANDBOX_CA_CERT", e.CaCertificatePath),
            ("SANDBOX_SUBSCRIPTION_ID", e.SubscriptionId),
            ("SANDBOX_ADMIN_URL", e.AdminUrl),
        };
        var text = new StringBuilder();
        foreach (var (name, value) in lines)
        {
            text.Append("export ").Append(name).Append("='").Append(value.Replace("'", "'\\''")).Append("'\n");
        }

        await WritePrivateFileAsync(path, text.ToString(), cancellationToken);
    }

    /// <summary>Writes an Arcboard connector configuration (the shape of ArcboardOptions, camelCase) for this sandbox.</summary>
    public async Task WriteConfigFileAsync(string path, string storePath, CancellationToken cancellationToken = default)
    {
        var e = Endpoints;
        var accounts = new JsonArray();
        for (var i = 0; i < e.AccountIds.Count; i++)
        {
            var id = e.AccountIds[i];
            accounts.Add(new JsonObject
            {
                ["accountId"] = id,
                ["regions"] = new JsonArray([.. Fleet.RegionsOf(id).Select(r => (JsonNode?)JsonValue.Create(r))]),
                // The base key acts in the first account; the others are reached through a role, as in an organization.
                ["roleArn"] = i == 0 ? null : $"arn:aws:iam::{id}:role/ArcboardOnboarding",
            });
        }

        var config = new JsonObject
        {
            ["store"] = new JsonObject { ["sqlite"] = storePath },
            ["aws"] = new JsonObject
            {
                ["endpoint"] = e.AwsEndpoint,
                ["credentials"] = new JsonObject { ["type"] = "static", ["accessKeyId"] = e.AccessKeyId, ["secretAccessKey"] = e.SecretAccessKey },
                ["accounts"] = accounts,
            },
            ["azure"] = new JsonObject
            {
                ["tenantId"] = e.TenantId,
                ["subscriptionId"] = e.SubscriptionId,
                ["armEndpoint"] = e.ArmEndpoint,
                ["credential"] = new JsonObject { ["type"] = "clientSecret", ["clientId"] = e.ClientId, ["clientSecret"] = e.ClientSecret, ["authorityHost"] = e.AuthorityHost },
                ["caCertificate"] = e.CaCertificatePath,
            },
        };
        if (Profile.TimeScale > 1)
        {
            // On a clock X times faster the connector's shape is a poll every 2/X s and X times the rates it assumes
            // before a cloud says otherwise; SSM never says, so without this it would be paced at real-world speed.
            config["onboarding"] = new JsonObject
            {
                ["pollIntervalSeconds"] = Math.Max(0.1, Math.Round(2 / Profile.TimeScale, 3)),
                ["quotaScale"] = Profile.TimeScale,
            };
        }

        await WritePrivateFileAsync(path, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n", cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _commands.StopAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _commands.Dispose();
        _runner.Dispose();
        _certificate.Dispose();
        if (_options.DataDirectory is null)
        {
            // Only a folder we invented is ours to delete.
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    // Both files hold secrets: readable by the owner only.
    private static async Task WritePrivateFileAsync(string path, string content, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var fileOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var stream = new FileStream(path, fileOptions);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(content), cancellationToken);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static string LocationOf(string region) =>
        Locations.TryGetValue(region, out var location) ? location
        : region.StartsWith("us-", StringComparison.Ordinal) || region == "ca-central-1" ? "eastus"
        : "westeurope";

    private sealed record ListenerMetadata(bool Https);

    /// <summary>Gives an instance an agent that was connected before Arcboard ran: a key on disk, agentconfig.json, and the Arc machine.</summary>
    private sealed class ConnectedAgentSeeder(AzureCloud azure, string resourceGroup, TimeProvider time, Func<RSA> createKey)
    {
        public void Seed(SandboxInstance instance)
        {
            using var rsa = createKey();
            var vmId = Guid.NewGuid();
            var location = LocationOf(instance.Region);
            var windows = instance.Platform == InstancePlatform.Windows;
            Directory.CreateDirectory(Path.GetDirectoryName(instance.AgentPrivateKeyPath)!);
            File.WriteAllText(instance.AgentPrivateKeyPath, rsa.ExportRSAPrivateKeyPem());
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(instance.AgentPrivateKeyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            azure.SeedConnectedMachine(resourceGroup, instance.Id, location, vmId, windows ? "windows" : "linux", Convert.ToBase64String(rsa.ExportRSAPublicKey()));
            var config = new JsonObject
            {
                ["status"] = "Connected",
                ["resourceName"] = instance.Id,
                ["resourceGroup"] = resourceGroup,
                ["subscriptionId"] = azure.Options.SubscriptionId,
                ["tenantId"] = azure.Options.TenantId,
                ["location"] = location,
                ["vmId"] = vmId.ToString(),
                ["resourceId"] = $"/subscriptions/{azure.Options.SubscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.HybridCompute/machines/{instance.Id}",
                ["cloud"] = "AzureCloud",
                ["correlationId"] = Guid.NewGuid().ToString(),
                ["cloudProvider"] = "AWS",
                ["agentVersion"] = "1.50.0",
                ["lastHeartbeat"] = time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
                ["privateLinkScope"] = "",
                ["gatewayId"] = "",
                ["tags"] = new JsonObject(),
            };
            Directory.CreateDirectory(Path.GetDirectoryName(instance.AgentConfigPath)!);
            File.WriteAllText(instance.AgentConfigPath, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
    }
}
