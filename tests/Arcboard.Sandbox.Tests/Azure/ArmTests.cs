using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Arcboard.Sandbox.Tests.Azure;

public sealed class ArmTests
{
    private static readonly string Key = AzureTestKit.PublicKey(RSA.Create(2048));

    [Fact]
    public async Task Requests_without_a_valid_bearer_token_are_refused_with_WWW_Authenticate()
    {
        await using var kit = await AzureTestKit.StartAsync();
        var path = $"subscriptions/{kit.Sub}/resourcegroups/rg1?api-version=2021-04-01";

        using (var none = await kit.Http.GetAsync(path))
        {
            await AzureTestKit.ShouldBeArmErrorAsync(none, 401, "AuthenticationFailed");
            none.Headers.WwwAuthenticate.ToString().ShouldStartWith("Bearer authorization_uri=");
        }

        kit.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "forged");
        using (var forged = await kit.Http.GetAsync(path))
        {
            await AzureTestKit.ShouldBeArmErrorAsync(forged, 401, "InvalidAuthenticationToken");
            (await forged.Content.ReadAsStringAsync()).ShouldNotContain("forged");
        }

        kit.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", kit.Server.Cloud.IssueToken(TimeSpan.FromMinutes(5)));
        kit.Time.Advance(TimeSpan.FromMinutes(6));
        using var expired = await kit.Http.GetAsync(path);
        await AzureTestKit.ShouldBeArmErrorAsync(expired, 401, "ExpiredAuthenticationToken");
    }

    [Fact]
    public async Task Resource_groups_are_created_once_and_read_back_whatever_the_route_casing()
    {
        await using var kit = await AzureTestKit.StartAsync();
        kit.Authorize();
        var body = AzureTestKit.JsonBody(new JsonObject { ["location"] = "East US" });

        using var created = await kit.Http.PutAsync($"subscriptions/{kit.Sub}/resourcegroups/aws_111?api-version=2021-04-01", body);
        using var again = await kit.Http.PutAsync($"subscriptions/{kit.Sub}/resourceGroups/aws_111?api-version=2021-04-01", AzureTestKit.JsonBody(new JsonObject { ["location"] = "eastus" }));
        using var read = await kit.Http.GetAsync($"subscriptions/{kit.Sub}/resourceGroups/AWS_111?api-version=2021-04-01");
        using var missing = await kit.Http.GetAsync($"subscriptions/{kit.Sub}/resourceGroups/nope?api-version=2021-04-01");
        using var otherPlace = await kit.Http.PutAsync($"subscriptions/{kit.Sub}/resourcegroups/aws_111?api-version=2021-04-01", AzureTestKit.JsonBody(new JsonObject { ["location"] = "westus" }));

        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        again.StatusCode.ShouldBe(HttpStatusCode.OK);
        read.StatusCode.ShouldBe(HttpStatusCode.OK);
        var json = await AzureTestKit.ReadJsonAsync(read);
        json["id"]!.GetValue<string>().ShouldBe($"/subscriptions/{kit.Sub}/resourceGroups/aws_111");
        json["location"]!.GetValue<string>().ShouldBe("eastus");
        await AzureTestKit.ShouldBeArmErrorAsync(missing, 404, "ResourceGroupNotFound");
        await AzureTestKit.ShouldBeArmErrorAsync(otherPlace, 409, "InvalidResourceGroupLocation");
        using var head = await kit.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"subscriptions/{kit.Sub}/resourcegroups/aws_111?api-version=2021-04-01"));
        using var headMissing = await kit.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"subscriptions/{kit.Sub}/resourcegroups/nope?api-version=2021-04-01"));
        head.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        headMissing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        read.Headers.GetValues("x-ms-ratelimit-remaining-subscription-reads").ShouldHaveSingleItem();
        created.Headers.GetValues("x-ms-ratelimit-remaining-subscription-writes").ShouldHaveSingleItem();
        Guid.TryParse(read.Headers.GetValues("x-ms-request-id").Single(), out _).ShouldBeTrue();
    }

    [Fact]
    public async Task A_machine_is_created_with_201_updated_with_200_and_read_back_in_ARM_shape()
    {
        await using var kit = await AzureTestKit.StartAsync();
        kit.Authorize();
        await kit.PutResourceGroupAsync("rg");
        var vmId = Guid.NewGuid();

        using var created = await kit.PutMachineAsync("rg", "i-0123456789abcdef0", vmId, Key);
        using var updated = await kit.PutMachineAsync("rg", "i-0123456789abcdef0", vmId, Key);
        using var read = await kit.Http.GetAsync(kit.MachinePath("RG", "I-0123456789ABCDEF0"));

        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        updated.StatusCode.ShouldBe(HttpStatusCode.OK);
        read.StatusCode.ShouldBe(HttpStatusCode.OK);
        var json = await AzureTestKit.ReadJsonAsync(read);
        json["id"]!.GetValue<string>().ShouldBe($"/subscriptions/{kit.Sub}/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/i-0123456789abcdef0");
        json["name"]!.GetValue<string>().ShouldBe("i-0123456789abcdef0");
        json["type"]!.GetValue<string>().ShouldBe("Microsoft.HybridCompute/machines");
        json["location"]!.GetValue<string>().ShouldBe("eastus");
        json["kind"]!.GetValue<string>().ShouldBe("AWS");
        json["tags"]!["owner"]!.GetValue<string>().ShouldBe("arcboard");
        json["identity"]!["tenantId"]!.GetValue<string>().ShouldBe(kit.Server.Cloud.Options.TenantId);
        Guid.TryParse(json["identity"]!["principalId"]!.GetValue<string>(), out _).ShouldBeTrue();
        var properties = json["properties"]!;
        properties["provisioningState"]!.GetValue<string>().ShouldBe("Succeeded");
        properties["status"].ShouldBeNull();
        properties["vmId"]!.GetValue<string>().ShouldBe(vmId.ToString());
        properties["clientPublicKey"]!.GetValue<string>().ShouldBe(Key);
        properties["osType"]!.GetValue<string>().ShouldBe("linux");
    }

    [Fact]
    public async Task Each_invalid_machine_request_gets_ARMs_error_shape()
    {
        await using var kit = await AzureTestKit.StartAsync();
        kit.Authorize();
        await kit.PutResourceGroupAsync("rg");
        var vmId = Guid.NewGuid();
        (await kit.PutMachineAsync("rg", "m1", vmId, Key)).StatusCode.ShouldBe(HttpStatusCode.Created);

        await AzureTestKit.ShouldBeArmErrorAsync(await kit.PutMachineAsync("missing-rg", "m1", vmId, Key), 404, "ResourceGroupNotFound");
        await AzureTestKit.ShouldBeArmErrorAsync(await kit.PutMachineAsync("rg", "bad name!", vmId, Key), 400, "InvalidResourceName");
        await AzureTestKit.ShouldBeArmErrorAsync(await kit.PutMachineAsync("rg", new string('a', 55), vmId, Key), 400, "InvalidResourceName");
        await AzureTestKit.ShouldBeArmErrorAsync(await kit.PutMachineAsync("rg", "m1", Guid.NewGuid(), Key), 400, "HCRP400");
        await AzureTestKit.ShouldBeArmErrorAsync(await kit.Http.GetAsync(kit.MachinePath("rg", "nope")), 404, "ResourceNotFound");
        await AzureTestKit.ShouldBeArmErrorAsync(await kit.Http.GetAsync(kit.MachinePath("rg", "m1").Replace("2025-01-13", "2099-01-01")), 400, "NoRegisteredProviderFound");
        await AzureTestKit.ShouldBeArmErrorAsync(await kit.Http.GetAsync($"subscriptions/{kit.Sub}/resourcegroups/rg?api-version=1999-01-01"), 400, "InvalidApiVersionParameter");
        await AzureTestKit.ShouldBeArmErrorAsync(await kit.Http.GetAsync(kit.MachinePath("rg", "m1").Replace(kit.Sub, Guid.NewGuid().ToString())), 404, "SubscriptionNotFound");
        await AzureTestKit.ShouldBeArmErrorAsync(await kit.PutMachineAsync("rg", "m1", vmId, Key, location: "westeurope"), 409, "InvalidResourceLocation");
        await AzureTestKit.ShouldBeArmErrorAsync(await kit.Http.GetAsync(kit.MachinePath("rg", "m1").Replace("?api-version", "")), 400, "MissingApiVersionParameter");
        await AzureTestKit.ShouldBeArmErrorAsync(await kit.Http.GetAsync($"subscriptions/{kit.Sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/m1?api-version=2024-07-01"), 400, "InvalidResourceType");

        // SPKI is not PKCS#1: the real service wants the bare RSAPublicKey.
        var spki = Convert.ToBase64String(RSA.Create(2048).ExportSubjectPublicKeyInfo());
        using var badKey = await kit.PutMachineAsync("rg", "m2", Guid.NewGuid(), spki);
        await AzureTestKit.ShouldBeArmErrorAsync(badKey, 400, "HCRP400");

        using var badVmId = await kit.Http.PutAsync(kit.MachinePath("rg", "m3"), AzureTestKit.JsonBody(new JsonObject
        {
            ["location"] = "eastus",
            ["properties"] = new JsonObject { ["vmId"] = "not-a-guid", ["clientPublicKey"] = Key },
        }));
        ((int)badVmId.StatusCode).ShouldBe(400);
        var error = (await AzureTestKit.ReadJsonAsync(badVmId))["error"]!;
        error["code"]!.GetValue<string>().ShouldBe("HCRP400");
        error["message"]!.GetValue<string>().ShouldBe("Missing or invalid properties: VmId");
        error["target"]!.GetValue<string>().ShouldBe("properties.vmId");
    }

    [Fact]
    public async Task Listing_pages_through_nextLink_per_group_and_per_subscription()
    {
        await using var kit = await AzureTestKit.StartAsync(pageSize: 2);
        kit.Authorize();
        await kit.PutResourceGroupAsync("rg-a");
        await kit.PutResourceGroupAsync("rg-b");
        for (var i = 0; i < 5; i++)
        {
            (await kit.PutMachineAsync("rg-a", $"a{i}", Guid.NewGuid(), Key)).StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        (await kit.PutMachineAsync("rg-b", "b0", Guid.NewGuid(), Key)).StatusCode.ShouldBe(HttpStatusCode.Created);

        var inGroup = await ListAllAsync(kit, $"subscriptions/{kit.Sub}/resourceGroups/rg-a/providers/Microsoft.HybridCompute/machines?api-version={AzureTestKit.Api}");
        var inSubscription = await ListAllAsync(kit, $"subscriptions/{kit.Sub}/providers/Microsoft.HybridCompute/machines?api-version={AzureTestKit.Api}");

        inGroup.Names.ShouldBe(["a0", "a1", "a2", "a3", "a4"]);
        inGroup.Pages.ShouldBe(3);
        inSubscription.Names.ShouldBe(["a0", "a1", "a2", "a3", "a4", "b0"]);
        await AzureTestKit.ShouldBeArmErrorAsync(
            await kit.Http.GetAsync($"subscriptions/{kit.Sub}/resourceGroups/nope/providers/Microsoft.HybridCompute/machines?api-version={AzureTestKit.Api}"), 404, "ResourceGroupNotFound");
    }

    [Fact]
    public async Task Delete_is_a_long_running_operation_that_can_be_polled_to_completion()
    {
        await using var kit = await AzureTestKit.StartAsync(deletePolls: 1);
        kit.Authorize();
        await kit.PutResourceGroupAsync("rg");
        (await kit.PutMachineAsync("rg", "m1", Guid.NewGuid(), Key)).StatusCode.ShouldBe(HttpStatusCode.Created);

        using var delete = await kit.Http.DeleteAsync(kit.MachinePath("rg", "m1"));

        delete.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        delete.Headers.RetryAfter.ShouldNotBeNull();
        delete.Headers.GetValues("x-ms-ratelimit-remaining-subscription-deletes").ShouldHaveSingleItem();
        var location = delete.Headers.Location!;
        location.IsAbsoluteUri.ShouldBeTrue();
        var asyncOperation = new Uri(delete.Headers.GetValues("Azure-AsyncOperation").Single());

        using (var firstPoll = await kit.Http.GetAsync(location))
        {
            firstPoll.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        }

        using (var done = await kit.Http.GetAsync(location))
        {
            done.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        using (var status = await kit.Http.GetAsync(asyncOperation))
        {
            (await AzureTestKit.ReadJsonAsync(status))["status"]!.GetValue<string>().ShouldBe("Succeeded");
        }

        await AzureTestKit.ShouldBeArmErrorAsync(await kit.Http.GetAsync(kit.MachinePath("rg", "m1")), 404, "ResourceNotFound");
        using var again = await kit.Http.DeleteAsync(kit.MachinePath("rg", "m1"));
        again.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        kit.Server.Cloud.ListMachines().ShouldBeEmpty();
        kit.Server.Stats.Count("arm", "DeleteMachine").ShouldBe(2);
    }

    [Fact]
    public async Task Patch_replaces_tags_and_keeps_the_rest()
    {
        await using var kit = await AzureTestKit.StartAsync();
        kit.Authorize();
        await kit.PutResourceGroupAsync("rg");
        var vmId = Guid.NewGuid();
        (await kit.PutMachineAsync("rg", "m1", vmId, Key)).StatusCode.ShouldBe(HttpStatusCode.Created);

        using var patched = await kit.Http.PatchAsync(kit.MachinePath("rg", "m1"), AzureTestKit.JsonBody(new JsonObject { ["tags"] = new JsonObject { ["env"] = "prod" } }));

        patched.StatusCode.ShouldBe(HttpStatusCode.OK);
        var json = await AzureTestKit.ReadJsonAsync(patched);
        json["tags"]!.AsObject().Select(t => t.Key).ShouldBe(["env"]);
        json["properties"]!["vmId"]!.GetValue<string>().ShouldBe(vmId.ToString());
        await AzureTestKit.ShouldBeArmErrorAsync(
            await kit.Http.PatchAsync(kit.MachinePath("rg", "nope"), AzureTestKit.JsonBody(new JsonObject { ["tags"] = new JsonObject() })), 404, "ResourceNotFound");
    }

    private static async Task<(List<string> Names, int Pages)> ListAllAsync(AzureTestKit kit, string first)
    {
        var names = new List<string>();
        var pages = 0;
        string? next = first;
        while (next is not null)
        {
            using var response = await kit.Http.GetAsync(next);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            var json = await AzureTestKit.ReadJsonAsync(response);
            names.AddRange(json["value"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()));
            next = json["nextLink"]?.GetValue<string>();
            pages++;
            pages.ShouldBeLessThan(10);
        }

        return (names, pages);
    }
}
