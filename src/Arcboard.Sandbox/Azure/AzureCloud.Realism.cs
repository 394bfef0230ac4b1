using System.Globalization;
using Arcboard.Sandbox.Realism;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Arcboard.Sandbox.Azure;

/// <summary>
/// ARM's throttling, latency and injected faults, in one endpoint filter over every ARM route. It runs before the
/// handler, so a throttled or faulted request changes nothing, except <c>arm-5xx-after-write</c>, which by design
/// answers 500 for a write that was applied.
/// </summary>
public sealed partial class AzureCloud
{
    private static readonly TimeSpan InjectedRetryAfter = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ClientGivesUp = TimeSpan.FromSeconds(100);

    private enum Bucket
    {
        Reads,
        Writes,
        Deletes,
    }

    /// <summary>The realism this cloud applies: profile, buckets and HTTP faults.</summary>
    public SandboxRealism Realism => _realism;

    private async ValueTask<object?> ApplyArmRealismAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        if (context.GetEndpoint()?.Metadata.GetMetadata<ArmOperation>() is not { } operation)
        {
            return await next(invocation);
        }

        var subscriptionId = (context.Request.RouteValues["subscriptionId"] as string ?? "").ToLowerInvariant();
        var (header, name, select, latency) = operation.Bucket switch
        {
            Bucket.Reads => ("x-ms-ratelimit-remaining-subscription-reads", "reads", (Func<QuotaProfile, BucketSpec>)(q => q.ArmReads), _realism.Profile.Latencies.ArmRead),
            Bucket.Writes => ("x-ms-ratelimit-remaining-subscription-writes", "writes", q => q.ArmWrites, _realism.Profile.Latencies.ArmWrite),
            _ => ("x-ms-ratelimit-remaining-subscription-deletes", "deletes", q => q.ArmDeletes, _realism.Profile.Latencies.ArmWrite),
        };
        var scope = $"arm/{subscriptionId}/{name}";
        var headers = context.Response.Headers;
        var faults = _realism.HttpFaults;

        if (InjectBeforeHandler(operation, HttpFaultKinds.ArmDrop))
        {
            context.Abort();
            return Results.Empty;
        }

        if (InjectBeforeHandler(operation, HttpFaultKinds.ArmTimeout))
        {
            try
            {
                await _realism.DelayAsync(_realism.InProfileClock(ClientGivesUp), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return Results.Empty;
            }

            return ArmError(504, "GatewayTimeout", "The gateway did not receive a response from 'Microsoft.HybridCompute' within the specified time period.", null);
        }

        if (InjectBeforeHandler(operation, HttpFaultKinds.Arm429))
        {
            headers[header] = (_realism.Remaining(scope, select) ?? StaticRemaining(operation.Bucket)).ToString(CultureInfo.InvariantCulture);
            return TooManyRequests(headers, name, subscriptionId, _realism.InProfileClock(InjectedRetryAfter));
        }

        if (InjectBeforeHandler(operation, HttpFaultKinds.Arm5xx))
        {
            headers[header] = (_realism.Remaining(scope, select) ?? StaticRemaining(operation.Bucket)).ToString(CultureInfo.InvariantCulture);
            return faults.Pick(500, 503) == 500
                ? ArmError(500, "InternalServerError", "Encountered internal server error. Please try again.", null)
                : ArmError(503, "ServiceUnavailable", "The service is temporarily unavailable. Please try again later.", null);
        }

        var decision = _realism.Take(scope, select);
        headers[header] = (decision?.Remaining ?? StaticRemaining(operation.Bucket)).ToString(CultureInfo.InvariantCulture);
        if (decision is { Allowed: false } refused)
        {
            _stats.Record("arm", operation.Name);
            _stats.RecordThrottled("arm", operation.Name);
            return TooManyRequests(headers, name, subscriptionId, refused.RetryAfter);
        }

        await _realism.DelayAsync(latency, context.RequestAborted);
        var result = await next(invocation);
        if (operation.Bucket == Bucket.Writes
            && (HttpMethods.IsPut(context.Request.Method) || HttpMethods.IsPatch(context.Request.Method))
            && result is IStatusCodeHttpResult { StatusCode: >= 200 and < 300 }
            && faults.ShouldInject(HttpFaultKinds.Arm5xxAfterWrite))
        {
            _stats.RecordFault(HttpFaultKinds.Arm5xxAfterWrite);
            return ArmError(500, "InternalServerError", "Encountered internal server error. Please try again.", null);
        }

        return result;
    }

    private bool InjectBeforeHandler(ArmOperation operation, string kind)
    {
        if (!_realism.HttpFaults.ShouldInject(kind))
        {
            return false;
        }

        _stats.Record("arm", operation.Name);
        _stats.RecordFault(kind);
        return true;
    }

    // Retry-After in whole seconds rounded up for every HTTP client; x-ms-retry-after-ms exact, which Azure.Core
    // prefers, so a compressed clock is not rounded up to whole seconds.
    private static ContentHttpResult TooManyRequests(IHeaderDictionary headers, string bucket, string subscriptionId, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        headers["x-ms-retry-after-ms"] = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
        return (ContentHttpResult)ArmError(
            429,
            "TooManyRequests",
            $"Number of '{bucket}' requests for subscription '{subscriptionId}' exceeded. Please try again after '{seconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.",
            null);
    }

    // What a fresh bucket of the real sizes reports after one call: the answer when the profile sets no quota.
    private static int StaticRemaining(Bucket bucket) => bucket == Bucket.Reads ? 249 : 199;

    private IResult? InjectIdentityFault()
    {
        if (_realism.HttpFaults.ShouldInject(HttpFaultKinds.IdentityRefusal))
        {
            _stats.RecordFault(HttpFaultKinds.IdentityRefusal);
            return IdentityError(403, "IdentityRefused", "The identity service refused this request. Try again later.");
        }

        if (_realism.HttpFaults.ShouldInject(HttpFaultKinds.Identity5xx))
        {
            _stats.RecordFault(HttpFaultKinds.Identity5xx);
            return IdentityError(503, "ServiceUnavailable", "The identity service is temporarily unavailable. Try again later.");
        }

        return null;
    }

    private sealed record ArmOperation(string Name, Bucket Bucket);
}
