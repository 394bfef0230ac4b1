using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;
using Arcboard.Core.Cloud.Pacing;

namespace Arcboard.Azure;

/// <summary>
/// Tells the quota gate what ARM says is left of the subscription's read, write and delete buckets
/// (<c>x-ms-ratelimit-remaining-subscription-reads|writes|deletes</c>), so it can slow down before the bucket is empty.
/// A 429's headers are left to the throttling path: it already pauses every caller until Retry-After.
/// </summary>
public sealed class QuotaFeedbackPolicy(IQuotaFeedback feedback) : HttpPipelinePolicy
{
    private static readonly (string Header, string Kind)[] s_headers =
    [
        ("x-ms-ratelimit-remaining-subscription-writes", "writes"),
        ("x-ms-ratelimit-remaining-subscription-reads", "reads"),
        ("x-ms-ratelimit-remaining-subscription-deletes", "deletes"),
    ];

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ProcessNext(message, pipeline);
        Report(message);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        Report(message);
    }

    private void Report(HttpMessage message)
    {
        if (!message.HasResponse || message.Response.Status == 429 || SubscriptionOf(message.Request.Uri.Path) is not { } subscription)
        {
            return;
        }

        foreach (var (header, kind) in s_headers)
        {
            if (message.Response.Headers.TryGetValue(header, out var value)
                && long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var remaining))
            {
                feedback.Remaining(new QuotaKey("arm", subscription, kind), remaining);
            }
        }
    }

    internal static string? SubscriptionOf(string path)
    {
        const string marker = "/subscriptions/";
        var start = path.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
        if (start < 0)
        {
            return null;
        }

        start += marker.Length;
        var end = path.IndexOf('/', start);
        var id = end < 0 ? path[start..] : path[start..end];
        return id.Length == 0 ? null : Uri.UnescapeDataString(id);
    }
}

/// <summary>
/// Azure.Core's retries, except for 429: a throttled call goes straight back to the quota gate, which pauses every caller
/// of that subscription's bucket until Retry-After, instead of this one call sleeping alone while the others keep
/// spending the bucket.
/// </summary>
public sealed class ThrottleAwareRetryPolicy(int maxRetries, DelayStrategy delayStrategy) : RetryPolicy(maxRetries, delayStrategy)
{
    protected override bool ShouldRetry(HttpMessage message, Exception? exception) =>
        !(message.HasResponse && message.Response.Status == 429) && base.ShouldRetry(message, exception);

    protected override ValueTask<bool> ShouldRetryAsync(HttpMessage message, Exception? exception) =>
        message.HasResponse && message.Response.Status == 429 ? ValueTask.FromResult(false) : base.ShouldRetryAsync(message, exception);
}
