using Azure.Core;
using Arcboard.Core.Configuration;

namespace Arcboard.Azure;

/// <summary>
/// Azure.Core options for <see cref="ArmMachinesClient"/>. Retries are exponential, five at most, for 408, 500, 502, 503
/// and 504 (at least as long as a 503's <c>Retry-After</c> asks). A 429 is not retried here: it reaches the quota gate,
/// which pauses every caller of that subscription's bucket (see <see cref="ThrottleAwareRetryPolicy"/>).
/// Diagnostics keep Azure.Core's defaults, which redact the <c>Authorization</c> header and do not log bodies.
/// </summary>
public sealed class ArmClientOptions : ClientOptions
{
    public ArmClientOptions()
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 5;
        Retry.Delay = TimeSpan.FromSeconds(1);
        Retry.MaxDelay = TimeSpan.FromSeconds(60);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(100);
        Diagnostics.ApplicationId = "arcboard";
        Diagnostics.IsLoggingContentEnabled = false;
    }

    /// <summary>The options for <paramref name="options"/>: the pinned-certificate transport when a CA certificate is configured.</summary>
    public static ArmClientOptions For(AzureOptions options)
    {
        var result = new ArmClientOptions();
        if (PinnedCertificateTransport.Create(options) is { } transport)
        {
            result.Transport = transport;
        }

        return result;
    }
}
