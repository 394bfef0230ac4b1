using System.Net;
using System.Net.Http.Headers;

namespace Arcboard.Sandbox.Tests.Azure;

/// <summary>ARM serves only a bearer token its token endpoint issued, unexpired, for ARM's audience.</summary>
public sealed class ArmAuthenticationTests
{
    [Theory]
    [InlineData("Basic dXNlcjpwYXNz", "AuthenticationFailed")]
    [InlineData("Bearer", "AuthenticationFailed")]
    [InlineData("Bearer ", "AuthenticationFailed")]
    [InlineData("Bearer not-a-token-we-issued", "InvalidAuthenticationToken")]
    [InlineData("Bearer eyJhbGciOiJub25lIn0.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tIn0.", "InvalidAuthenticationToken")]
    public async Task Malformed_and_forged_authorization_headers_are_refused(string header, string code)
    {
        await using var kit = await AzureTestKit.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"subscriptions/{kit.Sub}/resourcegroups/rg1?api-version=2021-04-01");
        request.Headers.TryAddWithoutValidation("Authorization", header);

        using var response = await kit.Http.SendAsync(request);

        await AzureTestKit.ShouldBeArmErrorAsync(response, 401, code);
        response.Headers.WwwAuthenticate.ToString().ShouldContain("error=\"invalid_token\"");
    }

    [Fact]
    public async Task A_token_issued_for_another_audience_is_refused_and_ARMs_own_audiences_are_served()
    {
        await using var kit = await AzureTestKit.StartAsync();
        var path = $"subscriptions/{kit.Sub}/resourcegroups/rg1?api-version=2021-04-01";

        var graph = await GetWithAsync(kit, path, kit.Server.Cloud.IssueToken(TimeSpan.FromMinutes(5), "https://graph.microsoft.com"));
        var arm = await GetWithAsync(kit, path, kit.Server.Cloud.IssueToken(TimeSpan.FromMinutes(5), "https://management.azure.com/"));
        var classic = await GetWithAsync(kit, path, kit.Server.Cloud.IssueToken(TimeSpan.FromMinutes(5), "https://management.core.windows.net"));
        var own = await GetWithAsync(kit, path, kit.Server.Cloud.IssueToken(TimeSpan.FromMinutes(5), kit.Server.BaseAddress.ToString()));

        await AzureTestKit.ShouldBeArmErrorAsync(graph, 401, "InvalidAuthenticationTokenAudience");
        // Past authentication, a group that does not exist is a 404: the token was accepted.
        arm.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        classic.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        own.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_token_endpoint_issues_for_the_scope_it_was_asked_and_ARM_checks_it()
    {
        await using var kit = await AzureTestKit.StartAsync();
        var options = kit.Server.Cloud.Options;
        var path = $"subscriptions/{kit.Sub}/resourcegroups/rg1?api-version=2021-04-01";

        var forVault = await TokenAsync(kit, "https://vault.azure.net/.default");
        var forArm = await TokenAsync(kit, "https://management.azure.com/.default");

        await AzureTestKit.ShouldBeArmErrorAsync(await GetWithAsync(kit, path, forVault), 401, "InvalidAuthenticationTokenAudience");
        (await GetWithAsync(kit, path, forArm)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        options.ClientSecret.ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task A_token_expires_at_its_lifetime_to_the_second()
    {
        await using var kit = await AzureTestKit.StartAsync();
        var path = $"subscriptions/{kit.Sub}/resourcegroups/rg1?api-version=2021-04-01";
        var token = kit.Server.Cloud.IssueToken(TimeSpan.FromMinutes(10));

        kit.Time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));
        (await GetWithAsync(kit, path, token)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        kit.Time.Advance(TimeSpan.FromSeconds(1));
        var expired = await GetWithAsync(kit, path, token);

        await AzureTestKit.ShouldBeArmErrorAsync(expired, 401, "ExpiredAuthenticationToken");
        (await expired.Content.ReadAsStringAsync()).ShouldNotContain(token);
    }

    private static async Task<HttpResponseMessage> GetWithAsync(AzureTestKit kit, string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await kit.Http.SendAsync(request);
    }

    private static async Task<string> TokenAsync(AzureTestKit kit, string scope)
    {
        var options = kit.Server.Cloud.Options;
        using var response = await kit.Http.PostAsync($"{options.TenantId}/oauth2/v2.0/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = options.ClientId,
            ["client_secret"] = options.ClientSecret,
            ["scope"] = scope,
        }));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await AzureTestKit.ReadJsonAsync(response))["access_token"]!.GetValue<string>();
    }
}
