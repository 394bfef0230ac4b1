using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Arcboard.Sandbox.Tests.Hosting;

namespace Arcboard.Sandbox.Tests.Aws;

/// <summary>
/// SSM, EC2 and STS over raw HTTP, signed here from the SigV4 specification (not by the sandbox's own code), so each
/// way a request can be unauthenticated or wrongly signed is sent exactly and must be refused.
/// </summary>
public sealed class SigV4AuthenticationTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    public static readonly TheoryData<string> Services = new() { "ssm", "ec2", "sts" };

    [Theory]
    [MemberData(nameof(Services))]
    public async Task A_correctly_signed_request_is_served(string service)
    {
        using var response = await SendAsync(Request.For(service), sandbox.Endpoints.SecretAccessKey);

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("ssm", "MissingAuthenticationTokenException", 400)]
    [InlineData("ec2", "AuthFailure", 401)]
    [InlineData("sts", "MissingAuthenticationToken", 403)]
    public async Task A_request_without_Authorization_is_refused(string service, string code, int status)
    {
        using var response = await SendAsync(Request.For(service) with { Unsigned = true }, sandbox.Endpoints.SecretAccessKey);

        await ShouldBeRefusedAsync(response, status, code);
    }

    [Theory]
    [InlineData("ssm", "InvalidSignatureException", 400)]
    [InlineData("ec2", "SignatureDoesNotMatch", 403)]
    [InlineData("sts", "SignatureDoesNotMatch", 403)]
    public async Task A_wrong_secret_is_refused(string service, string code, int status)
    {
        using var response = await SendAsync(Request.For(service), "wrong" + sandbox.Endpoints.SecretAccessKey[5..]);

        await ShouldBeRefusedAsync(response, status, code);
    }

    [Theory]
    [InlineData("ssm", "InvalidSignatureException", 400)]
    [InlineData("ec2", "SignatureDoesNotMatch", 403)]
    [InlineData("sts", "SignatureDoesNotMatch", 403)]
    public async Task A_body_changed_after_signing_is_refused_even_with_the_original_content_hash(string service, string code, int status)
    {
        var request = Request.For(service);
        var tampered = request with { SentBody = service == "ssm" ? """{"MaxResults":5}""" : request.Body.Replace("Version=", "DryRun=true&Version=", StringComparison.Ordinal) };

        using var response = await SendAsync(tampered, sandbox.Endpoints.SecretAccessKey);

        await ShouldBeRefusedAsync(response, status, code);
    }

    [Theory]
    [InlineData("ssm", "InvalidSignatureException", 400)]
    [InlineData("ec2", "SignatureDoesNotMatch", 403)]
    [InlineData("sts", "SignatureDoesNotMatch", 403)]
    public async Task A_credential_scope_rewritten_to_another_region_is_refused(string service, string code, int status)
    {
        using var response = await SendAsync(Request.For(service) with { ClaimedRegion = "eu-west-1" }, sandbox.Endpoints.SecretAccessKey);

        await ShouldBeRefusedAsync(response, status, code);
    }

    [Fact]
    public async Task A_signature_scoped_to_another_service_is_refused()
    {
        using var response = await SendAsync(Request.For("ssm") with { SigningService = "ec2" }, sandbox.Endpoints.SecretAccessKey);

        await ShouldBeRefusedAsync(response, 400, "InvalidSignatureException");
        (await response.Content.ReadAsStringAsync()).ShouldContain("scoped to correct service");
    }

    [Theory]
    [InlineData("ssm", "InvalidSignatureException", 400)]
    [InlineData("ec2", "RequestExpired", 400)]
    [InlineData("sts", "SignatureDoesNotMatch", 403)]
    public async Task A_request_signed_more_than_15_minutes_ago_is_refused(string service, string code, int status)
    {
        using var response = await SendAsync(Request.For(service) with { SignedAt = DateTimeOffset.UtcNow.AddMinutes(-20) }, sandbox.Endpoints.SecretAccessKey);

        await ShouldBeRefusedAsync(response, status, code);
    }

    [Fact]
    public async Task Refusals_never_echo_the_signature_or_the_secret()
    {
        var request = Request.For("ssm");
        using var response = await SendAsync(request, "wrong" + sandbox.Endpoints.SecretAccessKey[5..]);
        var text = await response.Content.ReadAsStringAsync() + response.Headers;

        text.ShouldNotContain(sandbox.Endpoints.SecretAccessKey);
        text.ShouldNotContain(request.LastSignature!);
    }

    private static async Task ShouldBeRefusedAsync(HttpResponseMessage response, int status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).ShouldBe(status, text);
        text.ShouldContain(code);
    }

    private async Task<HttpResponseMessage> SendAsync(Request request, string secret)
    {
        using var http = new HttpClient();
        var endpoint = new Uri(sandbox.Endpoints.AwsEndpoint);
        var signedAt = request.SignedAt ?? DateTimeOffset.UtcNow;
        var amzDate = signedAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var date = amzDate[..8];
        var host = endpoint.Authority;
        var payloadHash = Hex(SHA256.HashData(Encoding.UTF8.GetBytes(request.Body)));
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["content-type"] = request.ContentType,
            ["host"] = host,
            ["x-amz-content-sha256"] = payloadHash,
            ["x-amz-date"] = amzDate,
        };
        if (request.Target is not null)
        {
            headers["x-amz-target"] = request.Target;
        }

        var signedHeaders = string.Join(';', headers.Keys);
        var canonical = $"POST\n/\n\n{string.Concat(headers.Select(h => $"{h.Key}:{h.Value}\n"))}\n{signedHeaders}\n{payloadHash}";
        var scope = $"{date}/us-east-1/{request.SigningService ?? request.Service}/aws4_request";
        var stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secret), Encoding.UTF8.GetBytes(date));
        foreach (var part in new[] { "us-east-1", request.SigningService ?? request.Service, "aws4_request" })
        {
            key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(part));
        }

        var signature = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
        request.LastSignature = signature;
        var claimedScope = request.ClaimedRegion is null ? scope : scope.Replace("/us-east-1/", $"/{request.ClaimedRegion}/", StringComparison.Ordinal);

        var message = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(request.SentBody ?? request.Body)),
        };
        message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
        message.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        message.Headers.TryAddWithoutValidation("X-Amz-Content-Sha256", payloadHash);
        if (request.Target is not null)
        {
            message.Headers.TryAddWithoutValidation("X-Amz-Target", request.Target);
        }

        if (!request.Unsigned)
        {
            message.Headers.TryAddWithoutValidation("Authorization", $"AWS4-HMAC-SHA256 Credential={sandbox.Endpoints.AccessKeyId}/{claimedScope}, SignedHeaders={signedHeaders}, Signature={signature}");
        }

        return await http.SendAsync(message);
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    private sealed record Request(string Service, string Body, string ContentType, string? Target)
    {
        public bool Unsigned { get; init; }
        public string? SentBody { get; init; }
        public string? ClaimedRegion { get; init; }
        public string? SigningService { get; init; }
        public DateTimeOffset? SignedAt { get; init; }
        public string? LastSignature { get; set; }

        public static Request For(string service) => service switch
        {
            "ssm" => new Request("ssm", """{"MaxResults":50}""", "application/x-amz-json-1.1", "AmazonSSM.DescribeInstanceInformation"),
            "ec2" => new Request("ec2", "Action=DescribeRegions&Version=2016-11-15", "application/x-www-form-urlencoded; charset=utf-8", null),
            _ => new Request("sts", "Action=GetCallerIdentity&Version=2011-06-15", "application/x-www-form-urlencoded; charset=utf-8", null),
        };
    }
}
