using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Arcboard.Sandbox.Azure;

namespace Arcboard.Sandbox.Tests.Azure;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}

/// <summary>A running Azure sandbox plus an HttpClient that trusts exactly its certificate.</summary>
internal sealed class AzureTestKit : IAsyncDisposable
{
    public const string Api = "2025-01-13";

    // One certificate for the whole test run: generating an RSA key per test is the slowest part of starting a server.
    internal static readonly SandboxCertificate SharedCertificate = SandboxCertificate.Create();

    private AzureTestKit(AzureSandboxServer server, ManualTime time)
    {
        Server = server;
        Time = time;
        Http = server.CreateClient();
    }

    public AzureSandboxServer Server { get; }
    public ManualTime Time { get; }
    public HttpClient Http { get; }
    public string Sub => Server.Cloud.Options.SubscriptionId;

    public static async Task<AzureTestKit> StartAsync(int pageSize = 100, int deletePolls = 1)
    {
        var time = new ManualTime(DateTimeOffset.UtcNow);
        var server = await AzureSandboxServer.StartAsync(new AzureCloudOptions { ListPageSize = pageSize, DeletePollsBeforeDone = deletePolls }, time, SharedCertificate);
        return new AzureTestKit(server, time);
    }

    public void Authorize() =>
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Server.Cloud.IssueToken(TimeSpan.FromHours(1)));

    public string MachinePath(string rg, string name) =>
        $"subscriptions/{Sub}/resourceGroups/{rg}/providers/Microsoft.HybridCompute/machines/{name}?api-version={Api}";

    public async Task PutResourceGroupAsync(string rg, string location = "eastus")
    {
        using var response = await Http.PutAsJsonAsync($"subscriptions/{Sub}/resourcegroups/{rg}?api-version=2021-04-01", new { location });
        response.IsSuccessStatusCode.ShouldBeTrue();
    }

    public Task<HttpResponseMessage> PutMachineAsync(string rg, string name, Guid vmId, string publicKey, string location = "eastus") =>
        Http.PutAsync(MachinePath(rg, name), JsonBody(new JsonObject
        {
            ["location"] = location,
            ["identity"] = new JsonObject { ["type"] = "SystemAssigned" },
            ["kind"] = "AWS",
            ["tags"] = new JsonObject { ["owner"] = "arcboard" },
            ["properties"] = new JsonObject { ["clientPublicKey"] = publicKey, ["vmId"] = vmId.ToString(), ["osType"] = "linux" },
        }));

    public static StringContent JsonBody(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");

    public static async Task<JsonObject> ReadJsonAsync(HttpResponseMessage response) =>
        (JsonNode.Parse(await response.Content.ReadAsStringAsync()) as JsonObject)!;

    public static async Task ShouldBeArmErrorAsync(HttpResponseMessage response, int status, string code)
    {
        ((int)response.StatusCode).ShouldBe(status, await response.Content.ReadAsStringAsync());
        var json = await ReadJsonAsync(response);
        json["error"]!["code"]!.GetValue<string>().ShouldBe(code);
        json["error"]!["message"]!.GetValue<string>().ShouldNotBeNullOrEmpty();
    }

    public static string PublicKey(RSA rsa) => Convert.ToBase64String(rsa.ExportRSAPublicKey());

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}
