using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using Arcboard.Sandbox.Hosting;
using Arcboard.Sandbox.Instances;
using Arcboard.Sandbox.Tests.Aws;

namespace Arcboard.Sandbox.Tests.Instances;

/// <summary>Two sandboxes on the same small fleet: one modelled, one running scripts for real, to compare them.</summary>
public sealed class ModelledSandboxFixture : IAsyncLifetime
{
    public const string Linux = "i-0aaaaaaaaaaaaaaa1";
    public const string Linux2 = "i-0aaaaaaaaaaaaaaa2";
    public const string Linux3 = "i-0aaaaaaaaaaaaaaa3";
    public const string Win1 = "i-0bbbbbbbbbbbbbbb1";
    public const string Win2 = "i-0bbbbbbbbbbbbbbb2";
    public const string NoAgent = "i-0ccccccccccccccc1";
    public const string NoAgentWindows = "i-0ccccccccccccccc2";
    public const string Connected = "i-0ddddddddddddddd1";
    public const string Faulty = "i-0eeeeeeeeeeeeeee1";
    public const string Faulty2 = "i-0eeeeeeeeeeeeeee2";
    public const string Chaos = "i-0eeeeeeeeeeeeeee3";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "arcboard-modelled-tests-" + Guid.NewGuid().ToString("N")[..8]);

    public SandboxHost Modelled { get; private set; } = null!;
    public SandboxHost Process { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        var fleet = Path.Combine(_directory, "fleet.yaml");
        await File.WriteAllTextAsync(fleet, $$"""
            accounts:
              - id: "111111111111"
                regions:
                  - name: us-east-1
                    instances:
                      - { id: {{Linux}}, platform: linux }
                      - { id: {{Linux2}}, platform: linux }
                      - { id: {{Linux3}}, platform: linux }
                      - { id: {{Win1}}, platform: windows }
                      - { id: {{Win2}}, platform: windows }
                      - { id: {{NoAgent}}, platform: linux, agent: none }
                      - { id: {{NoAgentWindows}}, platform: windows, agent: none }
                      - { id: {{Connected}}, platform: linux, agent: connected }
                      - { id: {{Faulty}}, platform: linux }
                      - { id: {{Faulty2}}, platform: linux }
                      - { id: {{Chaos}}, platform: linux }
            """);
        var modelled = StartAsync(fleet, "modelled", InstanceMode.Modelled);
        var process = StartAsync(fleet, "process", InstanceMode.Process);
        Modelled = await modelled;
        Process = await process;
    }

    private Task<SandboxHost> StartAsync(string fleet, string name, InstanceMode mode) =>
        SandboxHost.StartAsync(new SandboxOptions { FleetFile = fleet, DataDirectory = Path.Combine(_directory, name), InvocationDelay = TimeSpan.Zero, InstanceMode = mode }, CancellationToken.None);

    public async Task DisposeAsync()
    {
        await Modelled.DisposeAsync();
        await Process.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static AmazonSimpleSystemsManagementClient Ssm(SandboxHost host) =>
        new(new BasicAWSCredentials(host.Endpoints.AccessKeyId, host.Endpoints.SecretAccessKey), new AmazonSimpleSystemsManagementConfig { ServiceURL = host.Endpoints.AwsEndpoint, AuthenticationRegion = host.Endpoints.Region, MaxErrorRetry = 0 });

    /// <summary>Sends one script to one instance over the real SSM client and waits for its end.</summary>
    public static async Task<GetCommandInvocationResponse> RunAsync(SandboxHost host, string instanceId, string script, bool windows = false)
    {
        using var ssm = Ssm(host);
        var sent = await ssm.SendCommandAsync(new SendCommandRequest
        {
            DocumentName = windows ? "AWS-RunPowerShellScript" : "AWS-RunShellScript",
            InstanceIds = [instanceId],
            Parameters = new Dictionary<string, List<string>> { ["commands"] = [script] },
        });
        return await AwsSdkTests.WaitAsync(ssm, sent.Command.CommandId, instanceId);
    }

    /// <summary>An ARM client that trusts exactly the sandbox's certificate, with a token.</summary>
    public static HttpClient Arm(SandboxHost host)
    {
        var pinned = X509Certificate2.CreateFromPem(File.ReadAllText(host.Endpoints.CaCertificatePath)).RawData;
        var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.RawData.AsSpan().SequenceEqual(pinned) };
        var http = new HttpClient(handler) { BaseAddress = new Uri(host.Endpoints.ArmEndpoint + "/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", host.Azure.IssueToken(TimeSpan.FromHours(1)));
        return http;
    }
}
