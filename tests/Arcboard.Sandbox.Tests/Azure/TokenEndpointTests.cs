using System.Net;
using System.Net.Http.Headers;

namespace Arcboard.Sandbox.Tests.Azure;

public sealed class TokenEndpointTests
{
    private static FormUrlEncodedContent Form(string clientId, string secret, string scope = "https://management.azure.com/.default") => new(new Dictionary<string, string>
    {
        ["client_id"] = clientId,
        ["client_secret"] = secret,
        ["scope"] = scope,
        ["grant_type"] = "client_credentials",
        ["client_info"] = "1",
    });

    [Fact]
    public async Task Client_credentials_with_the_right_secret_get_a_bearer_token_that_ARM_accepts()
    {
        await using var kit = await AzureTestKit.StartAsync();
        var options = kit.Server.Cloud.Options;

        using var response = await kit.Http.PostAsync($"{options.TenantId}/oauth2/v2.0/token", Form(options.ClientId, options.ClientSecret));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var json = await AzureTestKit.ReadJsonAsync(response);
        json["token_type"]!.GetValue<string>().ShouldBe("Bearer");
        json["expires_in"]!.GetValue<long>().ShouldBe(3600);
        json["ext_expires_in"]!.GetValue<long>().ShouldBe(3600);
        var token = json["access_token"]!.GetValue<string>();
        token.Length.ShouldBeGreaterThan(20);

        kit.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var rg = await kit.Http.PutAsync($"subscriptions/{kit.Sub}/resourcegroups/rg1?api-version=2021-04-01", AzureTestKit.JsonBody(new System.Text.Json.Nodes.JsonObject { ["location"] = "eastus" }));
        rg.StatusCode.ShouldBe(HttpStatusCode.Created);
        kit.Server.Stats.Count("token", "GetToken").ShouldBe(1);
    }

    [Fact]
    public async Task A_wrong_secret_is_refused_as_Entra_does_without_echoing_it()
    {
        await using var kit = await AzureTestKit.StartAsync();
        var options = kit.Server.Cloud.Options;

        using var response = await kit.Http.PostAsync($"{options.TenantId}/oauth2/v2.0/token", Form(options.ClientId, "not-the-secret-xyz"));

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var text = await response.Content.ReadAsStringAsync();
        text.ShouldNotContain("not-the-secret-xyz");
        text.ShouldNotContain(options.ClientSecret);
        var json = await AzureTestKit.ReadJsonAsync(response);
        json["error"]!.GetValue<string>().ShouldBe("invalid_client");
        json["error_description"]!.GetValue<string>().ShouldStartWith("AADSTS7000215:");
    }

    [Theory]
    [InlineData("tenant", "invalid_request")]
    [InlineData("client", "unauthorized_client")]
    [InlineData("scope", "invalid_scope")]
    public async Task Other_bad_requests_get_Entra_error_codes(string wrong, string error)
    {
        await using var kit = await AzureTestKit.StartAsync();
        var options = kit.Server.Cloud.Options;
        var tenant = wrong == "tenant" ? Guid.NewGuid().ToString() : options.TenantId;
        var client = wrong == "client" ? Guid.NewGuid().ToString() : options.ClientId;
        var scope = wrong == "scope" ? "https://management.azure.com/user_impersonation" : "https://management.azure.com/.default";

        using var response = await kit.Http.PostAsync($"{tenant}/oauth2/v2.0/token", Form(client, options.ClientSecret, scope));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await AzureTestKit.ReadJsonAsync(response))["error"]!.GetValue<string>().ShouldBe(error);
    }

    [Fact]
    public void Each_start_has_its_own_random_client_secret() =>
        new Arcboard.Sandbox.Azure.AzureCloudOptions().ClientSecret.ShouldNotBe(new Arcboard.Sandbox.Azure.AzureCloudOptions().ClientSecret);
}
