namespace Arcboard.Core.Cloud;

/// <summary>
/// A failed call to a cloud API, translated by an adapter so the reconciler can decide without knowing the SDK.
/// Messages must never carry tokens, keys or signed material.
/// </summary>
public class CloudException : Exception
{
    public CloudException(string service, string code, string message, bool isTransient, TimeSpan? retryAfter = null, int? statusCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Service = service;
        Code = code;
        IsTransient = isTransient;
        RetryAfter = retryAfter;
        StatusCode = statusCode;
    }

    /// <summary>"ec2", "ssm", "sts" or "arm".</summary>
    public string Service { get; }

    /// <summary>The service's own error code, for example <c>InvalidInstanceId</c> or <c>ResourceNotFound</c>.</summary>
    public string Code { get; }

    /// <summary>True when the same call may succeed later unchanged (throttling, 5xx, timeouts, dropped connections).</summary>
    public bool IsTransient { get; }

    /// <summary>How long the service asked us to wait, when it said.</summary>
    public TimeSpan? RetryAfter { get; }

    public int? StatusCode { get; }

    public bool IsThrottling => Code is "ThrottlingException" or "RequestLimitExceeded" or "Throttling" or "TooManyRequests" || StatusCode == 429;
}
