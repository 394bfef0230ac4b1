using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Web;
using Amazon.Runtime;

namespace Arcboard.Adapters.Tests.Aws;

/// <summary>One request as the fake AWS endpoint received it.</summary>
internal sealed record AwsCall(string Service, string Operation, string Body, HttpRequestMessage Request)
{
    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

    public System.Collections.Specialized.NameValueCollection Form => HttpUtility.ParseQueryString(Body);

    public string Authorization => Request.Headers.TryGetValues("Authorization", out var v) ? string.Join(",", v) : "";
}

/// <summary>
/// An in-process AWS endpoint behind the SDK's own HTTP stack: it sees the real wire requests (SSM JSON 1.1, EC2/STS Query)
/// and answers what each test scripts, so the adapters run unchanged.
/// </summary>
internal sealed class FakeAws : HttpMessageHandler
{
    private readonly ConcurrentQueue<AwsCall> _calls = new();

    public Func<AwsCall, HttpResponseMessage> Respond { get; set; } = _ => throw new InvalidOperationException("no response scripted");

    public IReadOnlyList<AwsCall> Calls => [.. _calls];

    public IEnumerable<AwsCall> CallsTo(string operation) => Calls.Where(c => c.Operation == operation);

    public HttpClientFactory Factory => new HandlerFactory(this);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        AwsCall call;
        if (request.Headers.TryGetValues("X-Amz-Target", out var targets))
        {
            var target = targets.Single();
            call = new AwsCall("ssm", target[(target.IndexOf('.', StringComparison.Ordinal) + 1)..], body, request);
        }
        else
        {
            var form = HttpUtility.ParseQueryString(body);
            var action = form["Action"] ?? "";
            call = new AwsCall(action.StartsWith("AssumeRole", StringComparison.Ordinal) ? "sts" : "ec2", action, body, request);
        }

        _calls.Enqueue(call);
        return Respond(call);
    }

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/x-amz-json-1.1") };

    public static HttpResponseMessage SsmError(string type, string message, HttpStatusCode status = HttpStatusCode.BadRequest)
    {
        var response = Json(new JsonObject { ["__type"] = type, ["message"] = message }.ToJsonString(), status);
        response.Headers.Add("x-amzn-RequestId", Guid.NewGuid().ToString());
        return response;
    }

    public static HttpResponseMessage Xml(string xml, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(xml, Encoding.UTF8, "text/xml") };

    public static HttpResponseMessage Ec2Error(string code, string message, HttpStatusCode status = HttpStatusCode.BadRequest) =>
        Xml($"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>{Guid.NewGuid()}</RequestID></Response>", status);

    private sealed class HandlerFactory(FakeAws handler) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(handler, disposeHandler: false);

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;
    }
}
