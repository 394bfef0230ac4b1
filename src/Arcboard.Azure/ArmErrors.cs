using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Identity;
using Arcboard.Core.Cloud;

namespace Arcboard.Azure;

/// <summary>Turns ARM error responses and pipeline failures into <see cref="CloudException"/>.</summary>
public static class ArmErrors
{
    public const string Service = "arm";

    /// <summary>From an ARM response that is not a success. The body is ARM's <c>{"error":{"code","message"}}</c>, which carries no secrets.</summary>
    public static CloudException FromResponse(Response response, string operation, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(response);
        var (code, message) = ReadError(response);
        var status = response.Status;
        code ??= status switch
        {
            404 => "NotFound",
            429 => "TooManyRequests",
            _ => $"Http{status}",
        };
        message ??= string.IsNullOrEmpty(response.ReasonPhrase) ? $"HTTP {status}" : response.ReasonPhrase;

        var transient = status is 408 or 429 or >= 500;
        var retryAfter = RetryAfter(response, timeProvider);
        var text = transient
            ? $"{operation} failed with a temporary ARM error ({status} {code}: {message}); retrying later."
            : $"{operation} failed: {status} {code}: {message}{Advice(status, code)}";
        return new CloudException(Service, code, text, transient, retryAfter, status);
    }

    /// <summary>From an exception thrown by the pipeline: transport failures after retries, or the credential failing to get a token.</summary>
    public static CloudException FromException(Exception exception, string operation)
    {
        ArgumentNullException.ThrowIfNull(exception);
        switch (exception)
        {
            case CloudException c:
                return c;
            case CredentialUnavailableException:
                return new CloudException(Service, "CredentialUnavailable",
                    $"{operation}: no Azure credential is available ({exception.Message}). Set azure.credential (type clientSecret with tenantId, clientId and a secret) or sign in for DefaultAzureCredential.",
                    false, null, null, exception);
            case AuthenticationFailedException:
                var transient = IsNetwork(exception.InnerException) || InnerStatus(exception) is 429 or >= 500;
                return new CloudException(Service, "AuthenticationFailed",
                    transient
                        ? $"{operation}: Entra ID could not be reached for a token ({FirstLine(exception.Message)}); retrying later."
                        : $"{operation}: Entra ID refused to issue a token ({FirstLine(exception.Message)}). Check azure.tenantId, azure.credential.clientId and its secret, and azure.credential.authorityHost.",
                    transient, null, null, exception);
            case RequestFailedException { Status: 0 } rfe:
                return new CloudException(Service, "NetworkError", $"{operation} could not reach ARM ({FirstLine(rfe.InnerException?.Message ?? rfe.Message)}); retrying later.", true, null, null, exception);
            case RequestFailedException rfe:
                return new CloudException(Service, rfe.ErrorCode ?? $"Http{rfe.Status}", $"{operation} failed: {FirstLine(rfe.Message)}", rfe.Status is 408 or 429 or >= 500, null, rfe.Status, exception);
            case InvalidOperationException configuration:
                return new CloudException(Service, "Configuration", $"{operation}: {configuration.Message}", false, null, null, exception);
            default:
                return IsNetwork(exception)
                    ? new CloudException(Service, "NetworkError", $"{operation} could not reach ARM ({FirstLine(exception.Message)}); retrying later.", true, null, null, exception)
                    : new CloudException(Service, exception.GetType().Name, $"{operation} failed unexpectedly: {FirstLine(exception.Message)}", false, null, null, exception);
        }
    }

    internal static (string? Code, string? Message) ReadError(Response response)
    {
        try
        {
            var content = response.Content;
            if (content is null || content.ToMemory().IsEmpty)
            {
                return (null, null);
            }

            using var doc = JsonDocument.Parse(content.ToMemory());
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                return (code, message);
            }
        }
        catch (JsonException)
        {
            // Not ARM's error shape (a proxy's HTML page, say): fall back to the status.
        }

        return (null, null);
    }

    internal static TimeSpan? RetryAfter(Response response, TimeProvider timeProvider)
    {
        if (response.Headers.TryGetValue("retry-after-ms", out var ms) || response.Headers.TryGetValue("x-ms-retry-after-ms", out ms))
        {
            if (double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds >= 0)
            {
                return TimeSpan.FromMilliseconds(milliseconds);
            }
        }

        if (response.Headers.TryGetValue("Retry-After", out var value) && !string.IsNullOrWhiteSpace(value))
        {
            if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (DateTimeOffset.TryParseExact(value, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
            {
                var wait = when - timeProvider.GetUtcNow();
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
        }

        return null;
    }

    private static string Advice(int status, string code) => (status, code) switch
    {
        (401, _) => ". ARM did not accept the token: check azure.tenantId and the credential.",
        (403, _) => ". The identity lacks permission: grant 'Azure Connected Machine Onboarding' on the subscription or resource group (and 'Azure Connected Machine Resource Administrator' for clean-up).",
        (_, "MissingSubscriptionRegistration") => ". Register the Microsoft.HybridCompute resource provider in the subscription.",
        (_, "SubscriptionNotFound") => ". Check azure.subscriptionId.",
        (_, "RequestDisallowedByPolicy") => ". An Azure Policy forbids this: add the tags it requires to azure.tags or exempt the resource group.",
        _ => ".",
    };

    private static int? InnerStatus(Exception exception)
    {
        for (var e = exception.InnerException; e is not null; e = e.InnerException)
        {
            if (e is Microsoft.Identity.Client.MsalServiceException msal)
            {
                return msal.StatusCode;
            }

            if (e is RequestFailedException rfe)
            {
                return rfe.Status;
            }
        }

        return null;
    }

    private static bool IsNetwork(Exception? e) => e switch
    {
        null => false,
        HttpRequestException or IOException or TimeoutException or System.Net.Sockets.SocketException or TaskCanceledException => true,
        RequestFailedException { Status: 0 } => true,
        _ => IsNetwork(e.InnerException),
    };

    private static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length > 400 ? line[..400] + "..." : line;
    }
}
