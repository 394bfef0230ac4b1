using Amazon.EC2;
using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SimpleSystemsManagement;
using Arcboard.Sandbox.Hosting;

namespace Arcboard.Sandbox.Tests.Hosting;

/// <summary>One sandbox for a test class: a small, known fleet on free ports.</summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    public const string Account1 = "111111111111";
    public const string Account2 = "222222222222";
    public const string Linux = "i-0aaaaaaaaaaaaaaa1";
    public const string Windows = "i-0bbbbbbbbbbbbbbb1";
    public const string Stopped = "i-0ccccccccccccccc1";
    public const string Offline = "i-0ddddddddddddddd1";
    public const string NoSsm = "i-0eeeeeeeeeeeeeee1";
    public const string Connected = "i-0fffffffffffffff1";
    public const string OtherAccount = "i-0aaaaaaaaaaaaaaa2";
    public const int FillerCount = 12;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "arcboard-sandbox-tests-" + Guid.NewGuid().ToString("N")[..8]);

    public SandboxHost Host { get; private set; } = null!;

    public SandboxEndpoints Endpoints => Host.Endpoints;

    /// <summary>Instances in 111111111111/us-east-1, all states included.</summary>
    public int Account1UsEast1Count => 6 + FillerCount;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        var fleet = Path.Combine(_directory, "fleet.yaml");
        var filler = string.Concat(Enumerable.Range(1, FillerCount).Select(n => $"          - {{ id: i-{n:x8}, platform: linux, tags: {{ Name: filler-{n}, env: test }} }}\n"));
        await File.WriteAllTextAsync(fleet, $$"""
            accounts:
              - id: "{{Account1}}"
                regions:
                  - name: us-east-1
                    instances:
                      - { id: {{Linux}}, platform: linux, tags: { Name: web-1, env: prod } }
                      - { id: {{Windows}}, platform: windows, tags: { Name: win-1, env: prod } }
                      - { id: {{Stopped}}, platform: linux, state: stopped }
                      - { id: {{Offline}}, platform: linux, ssm: offline }
                      - { id: {{NoSsm}}, platform: linux, ssm: none, agent: none }
                      - { id: {{Connected}}, platform: linux, agent: connected }
            {{filler}}      - name: eu-west-1
                    instances: []
              - id: "{{Account2}}"
                regions:
                  - name: us-west-2
                    instances:
                      - { id: {{OtherAccount}}, platform: linux }
            """);
        Host = await SandboxHost.StartAsync(new SandboxOptions { FleetFile = fleet, DataDirectory = Path.Combine(_directory, "data"), InvocationDelay = TimeSpan.FromMilliseconds(300) }, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public AWSCredentials Credentials(string? secret = null) => new BasicAWSCredentials(Endpoints.AccessKeyId, secret ?? Endpoints.SecretAccessKey);

    public AmazonSimpleSystemsManagementClient Ssm(AWSCredentials? credentials = null, string? region = null) =>
        new(credentials ?? Credentials(), new AmazonSimpleSystemsManagementConfig { ServiceURL = Endpoints.AwsEndpoint, AuthenticationRegion = region ?? Endpoints.Region, MaxErrorRetry = 0 });

    public AmazonEC2Client Ec2(AWSCredentials? credentials = null, string? region = null) =>
        new(credentials ?? Credentials(), new AmazonEC2Config { ServiceURL = Endpoints.AwsEndpoint, AuthenticationRegion = region ?? Endpoints.Region, MaxErrorRetry = 0 });

    public AmazonSecurityTokenServiceClient Sts(AWSCredentials? credentials = null) =>
        new(credentials ?? Credentials(), new AmazonSecurityTokenServiceConfig { ServiceURL = Endpoints.AwsEndpoint, AuthenticationRegion = Endpoints.Region, MaxErrorRetry = 0 });
}
