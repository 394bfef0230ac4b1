using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Arcboard.Sandbox.Admin;
using Arcboard.Sandbox.Realism;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Arcboard.Sandbox.Aws;

/// <summary>
/// The one AWS endpoint: tells SSM (JSON 1.1, by <c>X-Amz-Target</c>) from EC2 and STS (Query, by <c>Action</c> and the
/// SigV4 credential scope), verifies the signature, counts the call, applies the profile's throttles and injected
/// faults, and answers errors in each protocol's own shape.
/// </summary>
/// <param name="realism">Quotas and faults to apply; by default none (the instant profile).</param>
public sealed class AwsGateway(AwsCredentialStore credentials, SsmApi ssm, Ec2Api ec2, StsApi sts, SandboxStats stats, TimeProvider time, SandboxRealism? realism = null)
{
    private const string JsonContentType = "application/x-amz-json-1.1";

    private readonly SandboxRealism _realism = realism ?? new SandboxRealism(SandboxProfile.Instant, time, seed: 1);

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var requestId = Guid.NewGuid().ToString();
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();

        var auth = SigV4Authorization.Parse(request.Headers.Authorization.ToString());
        var target = request.Headers["X-Amz-Target"].ToString();
        string service, operation;
        Dictionary<string, string> form = new(StringComparer.Ordinal);
        if (target.StartsWith("AmazonSSM.", StringComparison.Ordinal))
        {
            service = "ssm";
            operation = target["AmazonSSM.".Length..];
        }
        else
        {
            foreach (var (key, value) in QueryHelpers.ParseQuery(request.QueryString.Value))
            {
                form[key] = value.ToString();
            }

            if (request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) == true)
            {
                foreach (var (key, value) in QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body)))
                {
                    form[key] = value.ToString();
                }
            }

            operation = form.GetValueOrDefault("Action") ?? "";
            service = auth?.Service is "ec2" or "sts" ? auth.Service
                : operation is "GetCallerIdentity" or "AssumeRole" ? "sts"
                : "ec2";
            if (operation.Length == 0)
            {
                stats.Record(service, "(none)");
                await WriteErrorAsync(context, service, requestId, new AwsServiceException(service == "sts" ? "MissingAction" : "MissingParameter", "The request must contain the parameter Action"));
                return;
            }
        }

        stats.Record(service, operation);
        try
        {
            var principal = Authenticate(request, body, auth, service);
            var call = new AwsCall(principal, auth!.Region, service, operation, requestId);
            if (Refuse(call) is { } refusal)
            {
                throw refusal;
            }

            switch (service)
            {
                case "ssm":
                    var input = body.Length == 0 ? [] : JsonNode.Parse(body) as JsonObject ?? throw new AwsServiceException("SerializationException", "Start of structure or map found where not expected.");
                    var output = ssm.Handle(call, input);
                    context.Response.Headers["x-amzn-RequestId"] = requestId;
                    context.Response.ContentType = JsonContentType;
                    await context.Response.WriteAsync(output.ToJsonString(), context.RequestAborted);
                    break;
                case "ec2":
                    await WriteXmlAsync(context, ec2.Handle(call, form));
                    break;
                default:
                    await WriteXmlAsync(context, sts.Handle(call, form));
                    break;
            }
        }
        catch (AwsServiceException ex)
        {
            await WriteErrorAsync(context, service, requestId, ex);
        }
        catch (JsonException)
        {
            await WriteErrorAsync(context, service, requestId, new AwsServiceException("SerializationException", "The request body is not valid JSON."));
        }
    }

    /// <summary>
    /// An injected fault or a throttle for this call, checked after authentication because the buckets are per account
    /// (the principal's) and region (the signature's). A refused call takes no token.
    /// </summary>
    private AwsServiceException? Refuse(AwsCall call)
    {
        var (fault, error) = call.Service switch
        {
            "ssm" => (HttpFaultKinds.SsmThrottling, SsmThrottling),
            "ec2" => (HttpFaultKinds.Ec2Throttling, Ec2Throttling),
            _ => (HttpFaultKinds.Sts5xx, new AwsServiceException("ServiceUnavailable", "Service is unable to handle request.", 503, "Receiver")),
        };
        if (_realism.HttpFaults.ShouldInject(fault))
        {
            stats.RecordFault(fault);
            return error;
        }

        (string Bucket, Func<QuotaProfile, BucketSpec> Select)? limit = call.Service switch
        {
            "ssm" when call.Operation is "SendCommand" or "CancelCommand" => ("send", q => q.SsmSendCommand),
            "ssm" => ("reads", q => q.SsmReads),
            "ec2" => ("reads", q => q.Ec2Reads),
            _ => null,
        };
        if (limit is not { } l || _realism.Take($"{call.Service}/{call.AccountId}/{call.Region}/{l.Bucket}", l.Select) is not { Allowed: false })
        {
            return null;
        }

        stats.RecordThrottled(call.Service, call.Operation);
        return error;
    }

    // The shapes the real services answer with: SSM's JSON 1.1 ThrottlingException (HTTP 400, botocore's model has
    // it with a Message member), EC2's Query-protocol RequestLimitExceeded (HTTP 503).
    private static AwsServiceException SsmThrottling => new("ThrottlingException", "Rate exceeded");

    private static AwsServiceException Ec2Throttling => new("RequestLimitExceeded", "Request limit exceeded.", 503);

    private AwsPrincipal Authenticate(HttpRequest request, byte[] body, SigV4Authorization? auth, string service)
    {
        if (auth is null)
        {
            throw service switch
            {
                "ssm" => new AwsServiceException("MissingAuthenticationTokenException", "Missing Authentication Token"),
                "ec2" => new AwsServiceException("AuthFailure", "AWS was not able to validate the provided access credentials", 401),
                _ => new AwsServiceException("MissingAuthenticationToken", "Request is missing Authentication Token", 403),
            };
        }

        var principal = credentials.Find(auth.AccessKeyId);
        var token = request.Headers["X-Amz-Security-Token"].ToString();
        if (principal is null || (principal.SessionToken is not null && token != principal.SessionToken) || (principal.SessionToken is null && token.Length > 0))
        {
            throw service switch
            {
                "ssm" => new AwsServiceException("UnrecognizedClientException", "The security token included in the request is invalid."),
                "ec2" => new AwsServiceException("AuthFailure", "AWS was not able to validate the provided access credentials", 401),
                _ => new AwsServiceException("InvalidClientTokenId", "The security token included in the request is invalid.", 403),
            };
        }

        if (auth.Service != service)
        {
            throw SignatureError(service, $"Credential should be scoped to correct service: '{service}'. ");
        }

        switch (SigV4Verifier.Verify(request, body, auth, principal.SecretAccessKey, time.GetUtcNow()))
        {
            case SigV4Verifier.Result.Valid:
                break;
            case SigV4Verifier.Result.Expired:
                throw service == "ec2"
                    ? new AwsServiceException("RequestExpired", "Request has expired.")
                    : SignatureError(service, "Signature expired: the request time is more than 15 minutes from the server's time.");
            case SigV4Verifier.Result.Malformed:
                throw service switch
                {
                    "ssm" => new AwsServiceException("IncompleteSignatureException", "The request must carry an X-Amz-Date header matching the credential scope date."),
                    _ => new AwsServiceException("IncompleteSignature", "The request must carry an X-Amz-Date header matching the credential scope date.", service == "ec2" ? 400 : 403),
                };
            default:
                throw SignatureError(service, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
        }

        if (credentials.IsExpired(principal))
        {
            throw service switch
            {
                "ssm" => new AwsServiceException("ExpiredTokenException", "The security token included in the request is expired"),
                "ec2" => new AwsServiceException("RequestExpired", "Request has expired."),
                _ => new AwsServiceException("ExpiredToken", "The security token included in the request is expired", 403),
            };
        }

        return principal;
    }

    private static AwsServiceException SignatureError(string service, string message) => service switch
    {
        "ssm" => new AwsServiceException("InvalidSignatureException", message),
        _ => new AwsServiceException("SignatureDoesNotMatch", message, 403),
    };

    private static async Task WriteXmlAsync(HttpContext context, XElement element)
    {
        context.Response.ContentType = "text/xml;charset=UTF-8";
        var document = new XDocument(new XDeclaration("1.0", "UTF-8", null), element);
        await context.Response.WriteAsync(document.Declaration + "\n" + element.ToString(SaveOptions.DisableFormatting), context.RequestAborted);
    }

    private static async Task WriteErrorAsync(HttpContext context, string service, string requestId, AwsServiceException error)
    {
        var response = context.Response;
        response.StatusCode = error.StatusCode;
        switch (service)
        {
            case "ssm":
                response.Headers["x-amzn-RequestId"] = requestId;
                response.Headers["x-amzn-ErrorType"] = error.Code;
                response.ContentType = JsonContentType;
                var json = new JsonObject { ["__type"] = error.Code };
                if (error.Message.Length > 0)
                {
                    json["message"] = error.Message;
                }

                await response.WriteAsync(json.ToJsonString());
                break;
            case "ec2":
                await WriteXmlAsync(context, new XElement("Response",
                    new XElement("Errors", new XElement("Error", new XElement("Code", error.Code), new XElement("Message", error.Message))),
                    new XElement("RequestID", requestId)));
                break;
            default:
                await WriteXmlAsync(context, new XElement(StsApi.Ns + "ErrorResponse",
                    new XElement(StsApi.Ns + "Error", new XElement(StsApi.Ns + "Type", error.FaultType), new XElement(StsApi.Ns + "Code", error.Code), new XElement(StsApi.Ns + "Message", error.Message)),
                    new XElement(StsApi.Ns + "RequestId", requestId)));
                break;
        }
    }
}
