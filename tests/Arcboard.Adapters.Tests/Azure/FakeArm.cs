using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Arcboard.Azure;
using Arcboard.Core.Configuration;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Arcboard.Adapters.Tests.Azure;

internal sealed record ArmCall(HttpMethod Method, Uri Uri, string Body, string? Authorization)
{
    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

    public string? Query(string name) => System.Web.HttpUtility.ParseQueryString(Uri.Query)[name];
}

/// <summary>An in-process ARM behind Azure.Core's own HttpClient transport, answering what each test scripts.</summary>
internal sealed class FakeArm : HttpMessageHandler
{
    public const string Endpoint = "https://arm.test";

    private readonly ConcurrentQueue<ArmCall> _calls = new();

    public Func<ArmCall, HttpResponseMessage> Respond { get; set; } = _ => throw new InvalidOperationException("no response scripted");

    public IReadOnlyList<ArmCall> Calls => [.. _calls];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        var call = new ArmCall(request.Method, request.RequestUri!, body, request.Headers.Authorization?.ToString());
        _calls.Enqueue(call);
        return Respond(call);
    }

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static HttpResponseMessage Error(HttpStatusCode status, string code, string message, string? retryAfter = null)
    {
        var response = Json(new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }.ToJsonString(), status);
        if (retryAfter is not null)
        {
            response.Headers.TryAddWithoutValidation("Retry-After", retryAfter);
        }

        return response;
    }

    public ArmMachinesClient Client(TimeProvider? timeProvider = null, int maxRetries = 5)
    {
        var options = new ArmClientOptions { Transport = new HttpClientTransport(new HttpClient(this, disposeHandler: false)) };
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(5);
        options.Retry.MaxRetries = maxRetries;
        return new ArmMachinesClient(AzureTestSupport.Options, new StaticToken(), options, timeProvider);
    }
}

internal sealed class StaticToken : TokenCredential
{
    public List<string[]> Scopes { get; } = [];

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        Scopes.Add(requestContext.Scopes);
        return new AccessToken("test-token", DateTimeOffset.MaxValue);
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(GetToken(requestContext, cancellationToken));
}

internal static class AzureTestSupport
{
    public const string Subscription = "00000000-0000-0000-0000-000000000001";

    public static readonly AzureOptions Options = new()
    {
        TenantId = "00000000-0000-0000-0000-0000000000aa",
        SubscriptionId = Subscription,
        ArmEndpoint = FakeArm.Endpoint,
    };

    public static string MachineJson(string name, string status = "Connected", string rg = "aws_111111111111") => $$"""
        {"id":"/subscriptions/{{Subscription}}/resourceGroups/{{rg}}/providers/Microsoft.HybridCompute/machines/{{name}}","name":"{{name}}","location":"eastus","kind":"AWS",
         "tags":{"arcboard":"true"},
         "properties":{"status":"{{status}}","vmId":"6f1b1c1e-0000-4000-8000-000000000001","clientPublicKey":"MIIBCgKCAQEA","provisioningState":"Succeeded","agentVersion":"1.50"} }
        """;
}
