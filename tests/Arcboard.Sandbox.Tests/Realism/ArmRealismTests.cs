using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Arcboard.Sandbox.Azure;
using Arcboard.Sandbox.Realism;
using Arcboard.Sandbox.Tests.Azure;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.Time.Testing;

namespace Arcboard.Sandbox.Tests.Realism;

/// <summary>ARM under a profile: token buckets, latency on the injected clock, and each HTTP fault kind.</summary>
public sealed class ArmRealismTests : IAsyncLifetime
{
    // Realistic quotas, but two writes of burst and no latency, so a test reaches the limit in three calls.
    private static readonly SandboxProfile SmallWrites = SandboxProfile.Realistic with
    {
        Latencies = LatencyProfile.None,
        Quotas = SandboxProfile.Realistic.Quotas! with { ArmWrites = new BucketSpec(2, 10) },
    };

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private AzureSandboxServer _server = null!;
    private SandboxRealism _realism = null!;
    private HttpClient _http = null!;

    private string Sub => _server.Cloud.Options.SubscriptionId;

    public Task InitializeAsync() => StartAsync(SmallWrites);

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Writes_beyond_the_burst_get_429_with_exact_retry_headers_and_change_nothing()
    {
        using var first = await PutGroupAsync("rg1");
        using var second = await PutGroupAsync("rg2");
        using var third = await PutGroupAsync("rg3");

        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        Remaining(first, "writes").ShouldBe("1");
        Remaining(second, "writes").ShouldBe("0");
        await AzureTestKit.ShouldBeArmErrorAsync(third, 429, "TooManyRequests");
        third.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(1));
        third.Headers.GetValues("x-ms-retry-after-ms").Single().ShouldBe("100");
        Remaining(third, "writes").ShouldBe("0");
        _server.Cloud.ListResourceGroups().ShouldBe(["rg1", "rg2"]);
        _server.Stats.ThrottledSnapshot()["arm"]["PutResourceGroup"].ShouldBe(1);

        // Reads have their own bucket.
        using var read = await _http.GetAsync($"subscriptions/{Sub}/resourcegroups/rg1?api-version=2021-04-01");
        read.StatusCode.ShouldBe(HttpStatusCode.OK);
        Remaining(read, "reads").ShouldBe("249");

        _time.Advance(TimeSpan.FromMilliseconds(40));
        using var early = await PutGroupAsync("rg3");
        early.Headers.GetValues("x-ms-retry-after-ms").Single().ShouldBe("60");
        _time.Advance(TimeSpan.FromMilliseconds(60));
        using var inTime = await PutGroupAsync("rg3");
        inTime.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Azure_Core_sees_a_429_as_RequestFailedException_with_the_ARM_error_code()
    {
        var pipeline = Pipeline(maxRetries: 0);
        (await SendAsync(pipeline, "rg1")).Status.ShouldBe(201);
        (await SendAsync(pipeline, "rg2")).Status.ShouldBe(201);

        var response = await SendAsync(pipeline, "rg3");
        var error = new RequestFailedException(response);
        error.Status.ShouldBe(429);
        error.ErrorCode.ShouldBe("TooManyRequests");
    }

    [Fact]
    public async Task Azure_Core_waits_the_milliseconds_of_x_ms_retry_after_ms_not_the_whole_second_of_Retry_After()
    {
        // A 5x clock: the injected 429 asks for 200 ms, while Retry-After can only say 1 s.
        await RestartAsync(SmallWrites with { TimeScale = 5 });
        _realism.HttpFaults.Next(HttpFaultKinds.Arm429, 1);

        var throttled = await SendAsync(Pipeline(maxRetries: 0), "rg1");

        throttled.Status.ShouldBe(429);
        // The delay Azure.Core's retry policy would wait: the larger of the server's delay and its own (1 ms here).
        DelayStrategy.CreateFixedDelayStrategy(TimeSpan.FromMilliseconds(1)).GetNextDelay(throttled, 1).ShouldBe(TimeSpan.FromMilliseconds(200));
        (await SendAsync(Pipeline(maxRetries: 1), "rg1")).Status.ShouldBe(201);
        _server.Stats.FaultSnapshot()[HttpFaultKinds.Arm429].ShouldBe(1);
    }

    [Fact]
    public async Task Latency_is_spent_on_the_injected_clock()
    {
        await RestartAsync(SandboxProfile.Realistic);
        var (advanced, status) = await AdvanceUntilDoneAsync(_http.GetAsync($"subscriptions/{Sub}/resourcegroups/nope?api-version=2021-04-01"), TimeSpan.FromMilliseconds(10));

        status.ShouldBe(HttpStatusCode.NotFound);
        advanced.ShouldBeGreaterThanOrEqualTo(SandboxProfile.Realistic.Latencies.ArmRead);
    }

    [Fact]
    public async Task The_instant_profile_adds_no_limit_and_reports_a_fresh_bucket()
    {
        await RestartAsync(SandboxProfile.Instant);
        for (var i = 0; i < 260; i++)
        {
            using var response = await _http.GetAsync($"subscriptions/{Sub}/resourcegroups/nope?api-version=2021-04-01");
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
            Remaining(response, "reads").ShouldBe("249");
        }

        _server.Stats.ThrottledSnapshot().ShouldBeEmpty();
    }

    [Fact]
    public async Task Arm_5xx_answers_an_ARM_error_before_the_write_happens()
    {
        _realism.HttpFaults.Next(HttpFaultKinds.Arm5xx, 1);

        using var failed = await PutGroupAsync("rg1");

        ((int)failed.StatusCode).ShouldBeOneOf(500, 503);
        (await AzureTestKit.ReadJsonAsync(failed))["error"]!["code"]!.GetValue<string>().ShouldBeOneOf("InternalServerError", "ServiceUnavailable");
        _server.Cloud.ListResourceGroups().ShouldBeEmpty();
        _server.Stats.FaultSnapshot()[HttpFaultKinds.Arm5xx].ShouldBe(1);
        using var next = await PutGroupAsync("rg1");
        next.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Arm_5xx_after_write_applies_the_write_then_answers_500()
    {
        _realism.HttpFaults.Next(HttpFaultKinds.Arm5xxAfterWrite, 1);

        // A read is not a write: the cue waits for one.
        using var read = await _http.GetAsync($"subscriptions/{Sub}/resourcegroups/nope?api-version=2021-04-01");
        read.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        using var failed = await PutGroupAsync("rg1");

        await AzureTestKit.ShouldBeArmErrorAsync(failed, 500, "InternalServerError");
        _server.Cloud.ListResourceGroups().ShouldBe(["rg1"]);
        _server.Stats.FaultSnapshot().Keys.ShouldBe([HttpFaultKinds.Arm5xxAfterWrite]);
    }

    [Fact]
    public async Task Arm_drop_aborts_the_connection_and_changes_nothing()
    {
        _realism.HttpFaults.Next(HttpFaultKinds.ArmDrop, 1);
        // A fresh connection: HttpClient does not resend a request whose first connection was new.
        using var http = Client();

        await Should.ThrowAsync<HttpRequestException>(() => http.PutAsync($"subscriptions/{Sub}/resourcegroups/rg1?api-version=2021-04-01", AzureTestKit.JsonBody(new JsonObject { ["location"] = "eastus" })));

        _server.Cloud.ListResourceGroups().ShouldBeEmpty();
        _server.Stats.FaultSnapshot()[HttpFaultKinds.ArmDrop].ShouldBe(1);
    }

    [Fact]
    public async Task Arm_timeout_holds_the_request_a_hundred_seconds_of_profile_clock_then_answers_504()
    {
        _realism.HttpFaults.Next(HttpFaultKinds.ArmTimeout, 1);

        var (advanced, status) = await AdvanceUntilDoneAsync(PutGroupAsync("rg1"), TimeSpan.FromSeconds(5));

        status.ShouldBe(HttpStatusCode.GatewayTimeout);
        advanced.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(100));
        _server.Cloud.ListResourceGroups().ShouldBeEmpty();
    }

    [Fact]
    public async Task Arm_timeout_lets_go_when_the_client_gives_up()
    {
        _realism.HttpFaults.Next(HttpFaultKinds.ArmTimeout, 1);
        using var cancel = new CancellationTokenSource();
        var request = _http.PutAsync($"subscriptions/{Sub}/resourcegroups/rg1?api-version=2021-04-01", AzureTestKit.JsonBody(new JsonObject { ["location"] = "eastus" }), cancel.Token);

        // Give up once the sandbox holds the request, however long the connection took to open.
        var deadline = Stopwatch.StartNew();
        while (!_server.Stats.FaultSnapshot().ContainsKey(HttpFaultKinds.ArmTimeout) && deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.WhenAny(request, Task.Delay(5));
        }

        request.IsCompleted.ShouldBeFalse();
        await cancel.CancelAsync();
        await Should.ThrowAsync<TaskCanceledException>(() => request);

        _server.Cloud.ListResourceGroups().ShouldBeEmpty();
        _server.Stats.FaultSnapshot()[HttpFaultKinds.ArmTimeout].ShouldBe(1);
    }

    [Theory]
    [InlineData(HttpFaultKinds.IdentityRefusal, 403, "IdentityRefused")]
    [InlineData(HttpFaultKinds.Identity5xx, 503, "ServiceUnavailable")]
    public async Task The_identity_service_refuses_on_cue_with_a_clear_code(string kind, int status, string code)
    {
        _realism.HttpFaults.Next(kind, 1);

        using var refused = await _http.PostAsync($"machine/{Guid.NewGuid()}/challenge", AzureTestKit.JsonBody(new JsonObject { ["resourceId"] = "/subscriptions/x" }));
        using var normal = await _http.PostAsync($"machine/{Guid.NewGuid()}/challenge", AzureTestKit.JsonBody(new JsonObject { ["resourceId"] = "/subscriptions/x" }));

        await AzureTestKit.ShouldBeArmErrorAsync(refused, status, code);
        normal.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        _server.Stats.FaultSnapshot()[kind].ShouldBe(1);
    }

    private async Task StartAsync(SandboxProfile profile)
    {
        _realism = new SandboxRealism(profile, _time, seed: 1);
        _server = await AzureSandboxServer.StartAsync(time: _time, certificate: AzureTestKit.SharedCertificate, realism: _realism);
        _http = Client();
    }

    private async Task RestartAsync(SandboxProfile profile)
    {
        await DisposeAsync();
        await StartAsync(profile);
    }

    private HttpClient Client()
    {
        var http = _server.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _server.Cloud.IssueToken(TimeSpan.FromHours(1)));
        return http;
    }

    private Task<HttpResponseMessage> PutGroupAsync(string name) =>
        _http.PutAsync($"subscriptions/{Sub}/resourcegroups/{name}?api-version=2021-04-01", AzureTestKit.JsonBody(new JsonObject { ["location"] = "eastus" }));

    private static string Remaining(HttpResponseMessage response, string bucket) =>
        response.Headers.GetValues($"x-ms-ratelimit-remaining-subscription-{bucket}").Single();

    // Moves the fake clock in steps until the request completes; returns how far it had to move.
    private async Task<(TimeSpan Advanced, HttpStatusCode Status)> AdvanceUntilDoneAsync(Task<HttpResponseMessage> request, TimeSpan step)
    {
        var advanced = TimeSpan.Zero;
        var deadline = Stopwatch.StartNew();
        while (!request.IsCompleted && deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.WhenAny(request, Task.Delay(5));
            if (!request.IsCompleted)
            {
                _time.Advance(step);
                advanced += step;
            }
        }

        using var response = await request;
        return (advanced, response.StatusCode);
    }

    private HttpPipeline Pipeline(int maxRetries)
    {
        var options = new PipelineOptions { Transport = new HttpClientTransport(AzureSandboxServer.CreatePinnedHandler(AzureTestKit.SharedCertificate)) };
        options.Retry.MaxRetries = maxRetries;
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        return HttpPipelineBuilder.Build(options);
    }

    private async Task<Response> SendAsync(HttpPipeline pipeline, string resourceGroup)
    {
        // Not disposed: the response it holds is the result.
        var message = pipeline.CreateMessage();
        message.Request.Method = RequestMethod.Put;
        message.Request.Uri.Reset(new Uri(_server.BaseAddress, $"subscriptions/{Sub}/resourcegroups/{resourceGroup}?api-version=2021-04-01"));
        message.Request.Headers.Add("Authorization", "Bearer " + _server.Cloud.IssueToken(TimeSpan.FromHours(1)));
        message.Request.Headers.Add("Content-Type", "application/json");
        message.Request.Content = RequestContent.Create(BinaryData.FromString("""{"location":"eastus"}"""));
        await pipeline.SendAsync(message, CancellationToken.None);
        return message.Response;
    }

    private sealed class PipelineOptions : ClientOptions;
}
