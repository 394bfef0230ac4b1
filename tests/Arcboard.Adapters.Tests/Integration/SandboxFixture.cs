using System.Text.Json.Nodes;
using Arcboard.Aws;
using Arcboard.Azure;
using Arcboard.Core.Configuration;
using Arcboard.Sandbox.Hosting;

namespace Arcboard.Adapters.Tests.Integration;

/// <summary>
/// One sandbox for the integration tests: account A (base key) with many Linux instances in two regions, a Windows one
/// and a stopped one; account B reached only through AssumeRole. The adapters get nothing but endpoints and credentials.
/// </summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    public const string AccountA = "111111111111";
    public const string AccountB = "222222222222";
    public const int RunningLinuxInA = 60;

    private string? _fleetFile;

    public SandboxHost Host { get; private set; } = null!;

    public SandboxEndpoints Endpoints => Host.Endpoints;

    public async Task InitializeAsync()
    {
        var a1 = new JsonArray();
        for (var i = 0; i < RunningLinuxInA; i++)
        {
            a1.Add(Instance($"i-{i + 1:x17}", "linux", "running", "online", new JsonObject { ["Name"] = $"web-{i}" }));
        }

        a1.Add(Instance("i-00000000000000f01", "windows", "running", "online", null));
        a1.Add(Instance("i-00000000000000f02", "linux", "stopped", "none", null));
        var fleet = new JsonObject
        {
            ["accounts"] = new JsonArray(
                new JsonObject
                {
                    ["id"] = AccountA,
                    ["regions"] = new JsonArray(
                        new JsonObject { ["name"] = "us-east-1", ["instances"] = a1 },
                        new JsonObject { ["name"] = "eu-west-1", ["instances"] = new JsonArray(Instance("i-00000000000000e01", "linux", "running", "online", null)) }),
                },
                new JsonObject
                {
                    ["id"] = AccountB,
                    ["regions"] = new JsonArray(new JsonObject { ["name"] = "us-west-2", ["instances"] = new JsonArray(Instance("i-00000000000000b01", "linux", "running", "online", new JsonObject { ["team"] = "b" })) }),
                }),
        };
        _fleetFile = Path.Combine(Path.GetTempPath(), $"arcboard-adapters-fleet-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(_fleetFile, fleet.ToJsonString());
        Host = await SandboxHost.StartAsync(new SandboxOptions { FleetFile = _fleetFile, InvocationDelay = TimeSpan.FromMilliseconds(100) }, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        if (_fleetFile is not null)
        {
            File.Delete(_fleetFile);
        }
    }

    /// <summary>The connector's AWS configuration for this sandbox, as a user would write it.</summary>
    public AwsOptions AwsOptions(string? secret = null) => new()
    {
        Endpoint = Endpoints.AwsEndpoint,
        Credentials = new AwsCredentialOptions { Type = "static", AccessKeyId = Endpoints.AccessKeyId, SecretAccessKey = secret ?? Endpoints.SecretAccessKey },
        Accounts =
        [
            new AwsAccountOptions { AccountId = AccountA, Regions = ["us-east-1", "eu-west-1"] },
            new AwsAccountOptions { AccountId = AccountB, Regions = ["us-west-2"], RoleArn = $"arn:aws:iam::{AccountB}:role/ArcboardOnboarding" },
        ],
    };

    public AzureOptions AzureOptions() => new()
    {
        TenantId = Endpoints.TenantId,
        SubscriptionId = Endpoints.SubscriptionId,
        ArmEndpoint = Endpoints.ArmEndpoint,
        CaCertificate = Endpoints.CaCertificatePath,
        Credential = new AzureCredentialOptions { Type = "clientSecret", ClientId = Endpoints.ClientId, ClientSecret = Endpoints.ClientSecret, AuthorityHost = Endpoints.AuthorityHost },
    };

    public ArmMachinesClient ArmClient() => ArmMachinesClient.Create(AzureOptions());

    private static JsonObject Instance(string id, string platform, string state, string ssm, JsonObject? tags)
    {
        var o = new JsonObject { ["id"] = id, ["platform"] = platform, ["state"] = state, ["ssm"] = ssm, ["agent"] = "none" };
        if (tags is not null)
        {
            o["tags"] = tags;
        }

        return o;
    }
}

[CollectionDefinition(Name)]
public sealed class SandboxCollection : ICollectionFixture<SandboxFixture>
{
    public const string Name = "sandbox";
}
