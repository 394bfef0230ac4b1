using System.Diagnostics;
using System.Net;
using Arcboard.Core.Cloud;
using Arcboard.Core.Fleet;
using Microsoft.Extensions.Time.Testing;
using static Arcboard.Adapters.Tests.Azure.AzureTestSupport;

namespace Arcboard.Adapters.Tests.Azure;

public sealed class ArmMachinesClientTests
{
    private static readonly MachineRef Machine = new(Subscription, "aws_111111111111", "i-0123456789abcdef0");

    [Fact]
    public async Task Put_sends_the_precreate_body_with_api_version_and_bearer_token()
    {
        var fake = new FakeArm { Respond = _ => FakeArm.Json(MachineJson(Machine.Name, status: "Disconnected"), HttpStatusCode.Created) };
        var vmId = Guid.Parse("6f1b1c1e-0000-4000-8000-000000000001");
        var spec = new MachineSpec("eastus", "MIIBCgKCAQEA", vmId, Platform.Windows, new Dictionary<string, string> { ["arcboard"] = "true", ["env"] = "prod" });

        var machine = await fake.Client().PutAsync(Machine, spec, CancellationToken.None);

        var call = fake.Calls.ShouldHaveSingleItem();
        call.Method.ShouldBe(HttpMethod.Put);
        call.Uri.AbsolutePath.ShouldBe($"/subscriptions/{Subscription}/resourceGroups/aws_111111111111/providers/Microsoft.HybridCompute/machines/i-0123456789abcdef0");
        call.Query("api-version").ShouldBe("2025-01-13");
        call.Authorization.ShouldBe("Bearer test-token");
        var body = call.Json;
        body["location"]!.GetValue<string>().ShouldBe("eastus");
        body["identity"]!["type"]!.GetValue<string>().ShouldBe("SystemAssigned");
        body["kind"]!.GetValue<string>().ShouldBe("AWS");
        body["tags"]!["env"]!.GetValue<string>().ShouldBe("prod");
        body["properties"]!["clientPublicKey"]!.GetValue<string>().ShouldBe("MIIBCgKCAQEA");
        body["properties"]!["vmId"]!.GetValue<string>().ShouldBe("6f1b1c1e-0000-4000-8000-000000000001");
        body["properties"]!["osType"]!.GetValue<string>().ShouldBe("windows");
        machine.VmId.ShouldBe(vmId);
        machine.Status.ShouldBe("Disconnected");
        machine.Tags["arcboard"].ShouldBe("true");
    }

    [Fact]
    public async Task The_token_is_asked_for_the_arm_endpoint_scope()
    {
        var credential = new StaticToken();
        var fake = new FakeArm { Respond = _ => FakeArm.Json(MachineJson(Machine.Name)) };
        var options = new Arcboard.Azure.ArmClientOptions { Transport = new global::Azure.Core.Pipeline.HttpClientTransport(new HttpClient(fake, false)) };

        await new Arcboard.Azure.ArmMachinesClient(Options with { ArmEndpoint = "https://arm.test/" }, credential, options).GetAsync(Machine, CancellationToken.None);

        credential.Scopes.ShouldHaveSingleItem().ShouldBe(["https://arm.test/.default"]);
    }

    [Fact]
    public async Task Get_maps_the_machine_and_a_404_is_null()
    {
        var fake = new FakeArm
        {
            Respond = call => call.Uri.AbsolutePath.EndsWith("/missing", StringComparison.Ordinal)
                ? FakeArm.Error(HttpStatusCode.NotFound, "ResourceNotFound", "The Resource 'Microsoft.HybridCompute/machines/missing' was not found.")
                : FakeArm.Json(MachineJson(Machine.Name)),
        };
        var client = fake.Client();

        var machine = (await client.GetAsync(Machine, CancellationToken.None)).ShouldNotBeNull();
        machine.IsConnected.ShouldBeTrue();
        machine.Id.ShouldBe(Machine.ResourceId);
        machine.ClientPublicKey.ShouldBe("MIIBCgKCAQEA");
        machine.ProvisioningState.ShouldBe("Succeeded");
        machine.AgentVersion.ShouldBe("1.50");
        (await client.GetAsync(Machine with { Name = "missing" }, CancellationToken.None)).ShouldBeNull();
    }

    [Fact]
    public async Task List_follows_next_links_and_a_missing_group_is_empty()
    {
        var fake = new FakeArm();
        fake.Respond = call => call.Uri.AbsolutePath.Contains("/resourceGroups/nogroup/", StringComparison.Ordinal)
            ? FakeArm.Error(HttpStatusCode.NotFound, "ResourceGroupNotFound", "Resource group 'nogroup' could not be found.")
            : call.Query("$skiptoken") is null
                ? FakeArm.Json($$"""{"value":[{{MachineJson("i-1")}},{{MachineJson("i-2")}}],"nextLink":"{{FakeArm.Endpoint}}/subscriptions/{{Subscription}}/resourceGroups/aws_111111111111/providers/Microsoft.HybridCompute/machines?api-version=2025-01-13&$skiptoken=abc"}""")
                : FakeArm.Json($$"""{"value":[{{MachineJson("i-3", status: "Disconnected")}}]}""");
        var client = fake.Client();

        var machines = await client.ListAsync(Subscription, "aws_111111111111", CancellationToken.None);

        machines.Select(m => m.Name).ShouldBe(["i-1", "i-2", "i-3"]);
        fake.Calls.Count.ShouldBe(2);
        fake.Calls[0].Query("api-version").ShouldBe("2025-01-13");
        fake.Calls[1].Query("$skiptoken").ShouldBe("abc");
        (await client.ListAsync(Subscription, "nogroup", CancellationToken.None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Ensure_resource_group_creates_only_a_missing_group()
    {
        var existing = new HashSet<string> { "present" };
        var fake = new FakeArm();
        fake.Respond = call =>
        {
            var name = call.Uri.Segments[^1];
            if (call.Method == HttpMethod.Get)
            {
                return existing.Contains(name)
                    ? FakeArm.Json($$"""{"id":"/subscriptions/{{Subscription}}/resourceGroups/{{name}}","name":"{{name}}","location":"westeurope"}""")
                    : FakeArm.Error(HttpStatusCode.NotFound, "ResourceGroupNotFound", "not found");
            }

            existing.Add(name);
            return FakeArm.Json($$"""{"id":"/subscriptions/{{Subscription}}/resourceGroups/{{name}}","name":"{{name}}","location":"eastus"}""", HttpStatusCode.Created);
        };
        var client = fake.Client();

        await client.EnsureResourceGroupAsync(Subscription, "present", "eastus", CancellationToken.None);
        await client.EnsureResourceGroupAsync(Subscription, "fresh", "eastus", CancellationToken.None);

        fake.Calls.Select(c => $"{c.Method} {c.Uri.Segments[^1]}").ShouldBe(["GET present", "GET fresh", "PUT fresh"]);
        var put = fake.Calls[2];
        put.Uri.AbsolutePath.ShouldBe($"/subscriptions/{Subscription}/resourcegroups/fresh");
        put.Query("api-version").ShouldBe("2021-04-01");
        put.Json["location"]!.GetValue<string>().ShouldBe("eastus");
    }

    [Fact]
    public async Task A_429_is_not_retried_by_the_pipeline_but_surfaces_at_once_with_its_Retry_After()
    {
        // The quota gate, not this one call, waits: it pauses every caller of the subscription's bucket together.
        var fake = new FakeArm { Respond = _ => FakeArm.Error(HttpStatusCode.TooManyRequests, "TooManyRequests", "Number of write requests for subscription exceeded.", retryAfter: "7") };

        var ex = await Should.ThrowAsync<CloudException>(() => fake.Client(maxRetries: 2).PutAsync(Machine, new MachineSpec("eastus", "k", Guid.NewGuid(), Platform.Linux, new Dictionary<string, string>()), CancellationToken.None));

        fake.Calls.Count.ShouldBe(1);
        ex.Service.ShouldBe("arm");
        ex.IsTransient.ShouldBeTrue();
        ex.IsThrottling.ShouldBeTrue();
        ex.StatusCode.ShouldBe(429);
        ex.RetryAfter.ShouldBe(TimeSpan.FromSeconds(7));
    }

    [Fact]
    public async Task Remaining_quota_headers_reach_the_gate_per_subscription_and_kind()
    {
        var feedback = new RecordingFeedback();
        var fake = new FakeArm
        {
            Respond = _ =>
            {
                var response = FakeArm.Json(MachineJson(Machine.Name));
                response.Headers.Add("x-ms-ratelimit-remaining-subscription-reads", "249");
                return response;
            },
        };
        var options = new Arcboard.Azure.ArmClientOptions { Transport = new global::Azure.Core.Pipeline.HttpClientTransport(new HttpClient(fake, disposeHandler: false)) };

        await new Arcboard.Azure.ArmMachinesClient(AzureTestSupport.Options, new StaticToken(), options, null, feedback).GetAsync(Machine, CancellationToken.None);

        feedback.Reports.ShouldBe([(Arcboard.Core.Cloud.Pacing.QuotaKey.ArmReads(Machine.SubscriptionId), 249L)]);
    }

    private sealed class RecordingFeedback : Arcboard.Core.Cloud.Pacing.IQuotaFeedback
    {
        public List<(Arcboard.Core.Cloud.Pacing.QuotaKey, long)> Reports { get; } = [];

        public void Remaining(Arcboard.Core.Cloud.Pacing.QuotaKey key, long remaining) => Reports.Add((key, remaining));
    }

    [Fact]
    public async Task A_4xx_is_permanent_with_arms_own_code_and_message()
    {
        var fake = new FakeArm { Respond = _ => FakeArm.Error(HttpStatusCode.BadRequest, "HCRP400", "Missing or invalid properties: VmId") };

        var ex = await Should.ThrowAsync<CloudException>(() => fake.Client().PutAsync(Machine, new MachineSpec("eastus", "k", Guid.NewGuid(), Platform.Linux, new Dictionary<string, string>()), CancellationToken.None));

        ex.IsTransient.ShouldBeFalse();
        ex.Code.ShouldBe("HCRP400");
        ex.StatusCode.ShouldBe(400);
        ex.Message.ShouldContain("Missing or invalid properties: VmId");
        ex.Message.ShouldContain(Machine.Name);
        fake.Calls.Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_403_says_which_role_is_missing()
    {
        var fake = new FakeArm { Respond = _ => FakeArm.Error(HttpStatusCode.Forbidden, "AuthorizationFailed", "The client does not have authorization to perform action 'Microsoft.HybridCompute/machines/write'.") };

        var ex = await Should.ThrowAsync<CloudException>(() => fake.Client().PutAsync(Machine, new MachineSpec("eastus", "k", Guid.NewGuid(), Platform.Linux, new Dictionary<string, string>()), CancellationToken.None));

        ex.IsTransient.ShouldBeFalse();
        ex.Code.ShouldBe("AuthorizationFailed");
        ex.Message.ShouldContain("Azure Connected Machine Onboarding");
    }

    [Fact]
    public async Task A_503_after_retries_is_transient()
    {
        var fake = new FakeArm { Respond = _ => FakeArm.Error(HttpStatusCode.ServiceUnavailable, "ServiceUnavailable", "try later") };

        var ex = await Should.ThrowAsync<CloudException>(() => fake.Client(maxRetries: 1).GetAsync(Machine, CancellationToken.None));

        ex.IsTransient.ShouldBeTrue();
        ex.StatusCode.ShouldBe(503);
        fake.Calls.Count.ShouldBe(2);
    }

    [Fact]
    public async Task A_connection_failure_is_a_transient_network_error()
    {
        var fake = new FakeArm { Respond = _ => throw new HttpRequestException("Connection refused") };

        var ex = await Should.ThrowAsync<CloudException>(() => fake.Client(maxRetries: 0).GetAsync(Machine, CancellationToken.None));

        ex.IsTransient.ShouldBeTrue();
        ex.Code.ShouldBe("NetworkError");
    }

    [Theory]
    [InlineData(HttpStatusCode.NoContent)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.OK)]
    public async Task Delete_that_completes_at_once_makes_one_call(HttpStatusCode status)
    {
        var fake = new FakeArm { Respond = _ => status == HttpStatusCode.NotFound ? FakeArm.Error(status, "ResourceNotFound", "gone") : new HttpResponseMessage(status) };

        await fake.Client().DeleteAsync(Machine, CancellationToken.None);

        var call = fake.Calls.ShouldHaveSingleItem();
        call.Method.ShouldBe(HttpMethod.Delete);
        call.Query("api-version").ShouldBe("2025-01-13");
    }

    [Fact]
    public async Task Delete_accepted_polls_the_async_operation_honouring_Retry_After()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var polls = 0;
        var fake = new FakeArm();
        fake.Respond = call =>
        {
            if (call.Method == HttpMethod.Delete)
            {
                var accepted = new HttpResponseMessage(HttpStatusCode.Accepted);
                accepted.Headers.TryAddWithoutValidation("Azure-AsyncOperation", $"{FakeArm.Endpoint}/operations/op1?api-version=2025-01-13");
                accepted.Headers.TryAddWithoutValidation("Location", $"{FakeArm.Endpoint}/operationresults/op1?api-version=2025-01-13");
                accepted.Headers.TryAddWithoutValidation("Retry-After", "7");
                return accepted;
            }

            call.Uri.AbsolutePath.ShouldBe("/operations/op1");
            var response = FakeArm.Json(++polls < 2 ? """{"status":"InProgress"}""" : """{"status":"Succeeded"}""");
            response.Headers.TryAddWithoutValidation("Retry-After", "3");
            return response;
        };

        var delete = fake.Client(time).DeleteAsync(Machine, CancellationToken.None);
        await WaitForCalls(fake, 1);
        time.Advance(TimeSpan.FromSeconds(6));
        await Task.Delay(50);
        fake.Calls.Count.ShouldBe(1);
        time.Advance(TimeSpan.FromSeconds(1));
        await WaitForCalls(fake, 2);
        time.Advance(TimeSpan.FromSeconds(3));
        await delete.WaitAsync(TimeSpan.FromSeconds(5));

        fake.Calls.Count.ShouldBe(3);
    }

    [Fact]
    public async Task Delete_polled_by_location_finishes_on_204_and_a_failed_operation_is_an_error()
    {
        var fake = new FakeArm();
        var locationPolls = 0;
        fake.Respond = call =>
        {
            if (call.Method == HttpMethod.Delete && call.Uri.AbsolutePath.EndsWith("/bad", StringComparison.Ordinal))
            {
                var accepted = new HttpResponseMessage(HttpStatusCode.Accepted);
                accepted.Headers.TryAddWithoutValidation("Azure-AsyncOperation", $"{FakeArm.Endpoint}/operations/bad");
                accepted.Headers.TryAddWithoutValidation("Retry-After", "0");
                return accepted;
            }

            if (call.Method == HttpMethod.Delete)
            {
                var accepted = new HttpResponseMessage(HttpStatusCode.Accepted);
                accepted.Headers.TryAddWithoutValidation("Location", $"{FakeArm.Endpoint}/operationresults/op2");
                accepted.Headers.TryAddWithoutValidation("Retry-After", "0");
                return accepted;
            }

            if (call.Uri.AbsolutePath == "/operations/bad")
            {
                return FakeArm.Json("""{"status":"Failed","error":{"code":"DeleteBlocked","message":"A lock prevents deletion."}}""");
            }

            var poll = new HttpResponseMessage(++locationPolls < 3 ? HttpStatusCode.Accepted : HttpStatusCode.NoContent);
            poll.Headers.TryAddWithoutValidation("Retry-After", "0");
            return poll;
        };
        var client = fake.Client();

        await client.DeleteAsync(Machine, CancellationToken.None);
        locationPolls.ShouldBe(3);

        var ex = await Should.ThrowAsync<CloudException>(() => client.DeleteAsync(Machine with { Name = "bad" }, CancellationToken.None));
        ex.IsTransient.ShouldBeFalse();
        ex.Code.ShouldBe("DeleteBlocked");
        ex.Message.ShouldContain("A lock prevents deletion.");
    }

    private static async Task WaitForCalls(FakeArm fake, int count)
    {
        for (var i = 0; i < 200 && fake.Calls.Count < count; i++)
        {
            await Task.Delay(10);
        }

        fake.Calls.Count.ShouldBe(count);
    }
}
