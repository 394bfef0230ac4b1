using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using Arcboard.Sandbox.Hosting;
using Arcboard.Sandbox.Realism;
using Microsoft.Extensions.Time.Testing;

namespace Arcboard.Sandbox.Tests.Realism;

/// <summary>SSM, EC2 and STS under a profile, through the AWS SDK for .NET and boto3, and the admin surface that drives it.</summary>
public sealed class AwsRealismTests : IAsyncLifetime
{
    // Two calls of burst for EC2 reads, SSM reads and SendCommand, so a test reaches each limit in three calls.
    private static readonly SandboxProfile Small = SandboxProfile.Realistic with
    {
        Latencies = LatencyProfile.None,
        Quotas = SandboxProfile.Realistic.Quotas! with { Ec2Reads = new BucketSpec(2, 20), SsmReads = new BucketSpec(2, 20), SsmSendCommand = new BucketSpec(2, 5) },
    };

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "arcboard-realism-tests-" + Guid.NewGuid().ToString("N")[..8]);
    private SandboxHost _host = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _host = await SandboxHost.StartAsync(new SandboxOptions { Instances = 3, Profile = Small, Time = _time, DataDirectory = _directory }, CancellationToken.None);
        _admin = new HttpClient { BaseAddress = new Uri(_host.Endpoints.AwsEndpoint + "/") };
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _host.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Ssm_reads_beyond_the_burst_raise_ThrottlingException_until_the_bucket_refills()
    {
        using var ssm = Ssm();
        await ssm.DescribeInstanceInformationAsync(new());
        await ssm.DescribeInstanceInformationAsync(new());

        // The SDK raises the typed ThrottlingException only for operations whose model lists it, which these do not:
        // against real SSM too, it arrives as the service exception carrying the code.
        var throttled = await Should.ThrowAsync<AmazonSimpleSystemsManagementException>(() => ssm.DescribeInstanceInformationAsync(new()));

        throttled.ErrorCode.ShouldBe("ThrottlingException");
        throttled.Message.ShouldBe("Rate exceeded");
        throttled.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        _host.Stats.ThrottledSnapshot()["ssm"]["DescribeInstanceInformation"].ShouldBe(1);

        // SendCommand draws on its own bucket: reads being spent does not stop it.
        await Should.ThrowAsync<InvalidInstanceIdException>(() => ssm.SendCommandAsync(new SendCommandRequest { DocumentName = "AWS-RunShellScript", InstanceIds = ["i-00000000"], Parameters = new() { ["commands"] = ["true"] } }));

        _time.Advance(TimeSpan.FromMilliseconds(50));
        (await ssm.DescribeInstanceInformationAsync(new())).InstanceInformationList.ShouldNotBeNull();
    }

    [Fact]
    public async Task Ec2_reads_beyond_the_burst_raise_RequestLimitExceeded_with_503()
    {
        using var ec2 = Ec2();
        await ec2.DescribeInstancesAsync(new());
        await ec2.DescribeRegionsAsync(new());

        var throttled = await Should.ThrowAsync<AmazonEC2Exception>(() => ec2.DescribeInstancesAsync(new()));

        throttled.ErrorCode.ShouldBe("RequestLimitExceeded");
        throttled.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        _host.Stats.ThrottledSnapshot()["ec2"]["DescribeInstances"].ShouldBe(1);
        _time.Advance(TimeSpan.FromMilliseconds(50));
        await ec2.DescribeInstancesAsync(new());
    }

    [Fact]
    public async Task Faults_set_over_the_admin_surface_reach_the_clients_and_are_counted()
    {
        using var set = await _admin.PostAsJsonAsync("_sandbox/faults/http", new { kind = "ssm-throttling", count = 1 });
        set.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await set.Content.ReadFromJsonAsync<JsonObject>())!["faults"]![0]!["pending"]!.GetValue<int>().ShouldBe(1);
        _host.Faults.Http.Next(HttpFaultKinds.Ec2Throttling, 1);
        _host.Faults.Http.Next(HttpFaultKinds.Sts5xx, 1);
        using var ssm = Ssm();
        using var ec2 = Ec2();
        using var sts = new AmazonSecurityTokenServiceClient(_host.Endpoints.AccessKeyId, _host.Endpoints.SecretAccessKey, new AmazonSecurityTokenServiceConfig { ServiceURL = _host.Endpoints.AwsEndpoint, AuthenticationRegion = _host.Endpoints.Region, MaxErrorRetry = 0 });

        (await Should.ThrowAsync<AmazonSimpleSystemsManagementException>(() => ssm.DescribeInstanceInformationAsync(new()))).ErrorCode.ShouldBe("ThrottlingException");
        (await Should.ThrowAsync<AmazonEC2Exception>(() => ec2.DescribeInstancesAsync(new()))).ErrorCode.ShouldBe("RequestLimitExceeded");
        (await Should.ThrowAsync<AmazonSecurityTokenServiceException>(() => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest()))).StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        await ssm.DescribeInstanceInformationAsync(new());

        var stats = (await _admin.GetFromJsonAsync<JsonObject>("_sandbox/stats"))!;
        stats["faults"]!["ssm-throttling"]!.GetValue<long>().ShouldBe(1);
        stats["faults"]!["ec2-throttling"]!.GetValue<long>().ShouldBe(1);
        stats["faults"]!["sts-5xx"]!.GetValue<long>().ShouldBe(1);
        // Injected faults are not throttles: they do not touch the buckets or their counters.
        stats["throttled"]!.AsObject().ShouldBeEmpty();
    }

    [Fact]
    public async Task The_admin_surface_serves_the_profile_and_refuses_bad_faults_clearly()
    {
        var profile = (await _admin.GetFromJsonAsync<JsonObject>("_sandbox/profile"))!;
        profile["name"]!.GetValue<string>().ShouldBe("realistic");
        profile["quotas"]!["ec2Reads"]!["burst"]!.GetValue<int>().ShouldBe(2);
        profile["latencies"]!["armWrite"]!.GetValue<double>().ShouldBe(0);

        using var unknown = await _admin.PostAsJsonAsync("_sandbox/faults/http", new { kind = "disk-full", rate = 0.5 });
        using var badRate = await _admin.PostAsJsonAsync("_sandbox/faults/http", new { kind = "arm-5xx", rate = 2 });
        using var neither = await _admin.PostAsJsonAsync("_sandbox/faults/http", new { kind = "arm-5xx" });
        unknown.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await unknown.Content.ReadAsStringAsync()).ShouldContain("arm-5xx, arm-5xx-after-write");
        badRate.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        neither.StatusCode.ShouldBe(HttpStatusCode.BadRequest);

        using var set = await _admin.PostAsJsonAsync("_sandbox/faults/http", new { kind = "arm-5xx", rate = 0.25 });
        _host.Faults.Http.Snapshot().ShouldBe([new HttpFaultSetting("arm-5xx", 0.25, 0)]);
        using var cleared = await _admin.DeleteAsync("_sandbox/faults/http");
        cleared.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        _host.Faults.Http.Snapshot().ShouldBeEmpty();
    }

    [Fact]
    public async Task Boto3_reads_the_throttling_answers_as_ThrottlingException_and_RequestLimitExceeded()
    {
        _host.Faults.Http.Next(HttpFaultKinds.SsmThrottling, 1);
        _host.Faults.Http.Next(HttpFaultKinds.Ec2Throttling, 1);
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Realism", "throttling_check.py"));
        var e = _host.Endpoints;
        start.Environment["SANDBOX_AWS_ENDPOINT"] = e.AwsEndpoint;
        start.Environment["SANDBOX_AWS_REGION"] = e.Region;
        start.Environment["SANDBOX_AWS_ACCESS_KEY_ID"] = e.AccessKeyId;
        start.Environment["SANDBOX_AWS_SECRET_ACCESS_KEY"] = e.SecretAccessKey;
        foreach (var name in new[] { "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL" })
        {
            start.Environment.Remove(name);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        process.ExitCode.ShouldBe(0, await stderr);

        var result = JsonNode.Parse(await stdout)!;
        result["ssm"]!["code"]!.GetValue<string>().ShouldBe("ThrottlingException");
        result["ssm"]!["message"]!.GetValue<string>().ShouldBe("Rate exceeded");
        result["ssm"]!["status"]!.GetValue<int>().ShouldBe(400);
        result["ec2"]!["code"]!.GetValue<string>().ShouldBe("RequestLimitExceeded");
        result["ec2"]!["status"]!.GetValue<int>().ShouldBe(503);
    }

    private AmazonSimpleSystemsManagementClient Ssm() =>
        new(_host.Endpoints.AccessKeyId, _host.Endpoints.SecretAccessKey, new AmazonSimpleSystemsManagementConfig { ServiceURL = _host.Endpoints.AwsEndpoint, AuthenticationRegion = _host.Endpoints.Region, MaxErrorRetry = 0 });

    private AmazonEC2Client Ec2() =>
        new(_host.Endpoints.AccessKeyId, _host.Endpoints.SecretAccessKey, new AmazonEC2Config { ServiceURL = _host.Endpoints.AwsEndpoint, AuthenticationRegion = _host.Endpoints.Region, MaxErrorRetry = 0 });
}
