using System.Net;
using Amazon.Runtime;
using Arcboard.Core.Cloud;
using Arcboard.Core.Fleet;

namespace Arcboard.Aws;

/// <summary>Turns whatever the AWS SDK throws into a <see cref="CloudException"/> the reconciler can act on.</summary>
public static class AwsErrors
{
    private static readonly HashSet<string> s_throttlingCodes = new(StringComparer.Ordinal)
    {
        "ThrottlingException", "Throttling", "RequestLimitExceeded", "TooManyRequestsException",
        "RequestThrottled", "RequestThrottledException", "ProvisionedThroughputExceededException",
        "SlowDown", "EC2ThrottledException", "PriorRequestNotComplete", "BandwidthLimitExceeded",
    };

    private static readonly HashSet<string> s_transientCodes = new(StringComparer.Ordinal)
    {
        "InternalError", "InternalFailure", "InternalServerError", "ServiceUnavailable", "Unavailable",
        "RequestTimeout", "RequestTimeoutException", "IDPCommunicationError", "InvocationDoesNotExist",
        "InvocationDoesNotExistException",
    };

    /// <summary>
    /// Runs one SDK call and translates its failure. Cancellation asked for by <paramref name="cancellationToken"/> passes through untouched.
    /// </summary>
    public static async Task<T> CallAsync<T>(string service, AwsScope scope, string operation, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (CloudException)
        {
            throw;
        }
        catch (Exception ex)
        {
            throw Translate(ex, service, scope, operation);
        }
    }

    public static CloudException Translate(Exception exception, string service, AwsScope scope, string operation)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(scope);
        var where = $"{service}:{operation} in account {scope.AccountId}, region {scope.Region}";

        if (exception is AmazonServiceException ase)
        {
            // A failure while resolving an assumed role surfaces from the EC2/SSM call, but is STS's error.
            var actualService = ase.GetType().Namespace?.Contains("SecurityToken", StringComparison.Ordinal) == true ? "sts" : service;
            var code = string.IsNullOrEmpty(ase.ErrorCode) ? ase.GetType().Name.Replace("Exception", "", StringComparison.Ordinal) : ase.ErrorCode;
            var status = ase.StatusCode == 0 ? (int?)null : (int)ase.StatusCode;
            var awsMessage = string.IsNullOrWhiteSpace(ase.Message) ? code : ase.Message.Trim();

            if (s_throttlingCodes.Contains(code) || status == 429)
            {
                return new CloudException(actualService, code, $"{where} was throttled by AWS ({code}: {awsMessage}); retrying later.", true, null, status, exception);
            }

            if (s_transientCodes.Contains(code) || status >= 500 || status == 408 || (status is null && ase.InnerException is not null && IsNetwork(ase.InnerException)))
            {
                return new CloudException(actualService, code, $"{where} failed with a temporary AWS error ({code}: {awsMessage}); retrying later.", true, null, status, exception);
            }

            return new CloudException(actualService, code, $"{where} failed: {code}: {awsMessage}. {Advice(actualService, code, scope)}".TrimEnd(), false, null, status, exception);
        }

        if (IsNetwork(exception))
        {
            return new CloudException(service, "NetworkError", $"{where} could not reach AWS ({Describe(exception)}); retrying later.", true, null, null, exception);
        }

        if (exception is AmazonClientException ace)
        {
            // Client-side: mostly missing or unusable credentials, which no retry will fix.
            var networkInner = ace.InnerException is not null && IsNetwork(ace.InnerException);
            return networkInner
                ? new CloudException(service, "NetworkError", $"{where} could not reach AWS ({Describe(ace.InnerException!)}); retrying later.", true, null, null, exception)
                : new CloudException(service, "ClientError", $"{where} failed before reaching AWS: {ace.Message} Check aws.credentials (type, profile or keys) and aws.endpoint.", false, null, null, exception);
        }

        if (exception is InvalidOperationException configuration)
        {
            return new CloudException(service, "Configuration", $"{where}: {configuration.Message}", false, null, null, exception);
        }

        return new CloudException(service, exception.GetType().Name, $"{where} failed unexpectedly: {exception.Message}", false, null, null, exception);
    }

    private static bool IsNetwork(Exception e) => e switch
    {
        HttpRequestException or WebException or TimeoutException or IOException or System.Net.Sockets.SocketException => true,
        // HttpClient reports its own timeout as a cancellation nobody asked for.
        OperationCanceledException => true,
        AggregateException a => a.InnerExceptions.Any(IsNetwork),
        _ => e.InnerException is not null && e is not AmazonServiceException && IsNetwork(e.InnerException),
    };

    private static string Describe(Exception e)
    {
        var inner = e;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner.Message;
    }

    private static string Advice(string service, string code, AwsScope scope) => code switch
    {
        "UnrecognizedClientException" or "UnrecognizedClient" or "InvalidClientTokenId" or "AuthFailure" or "SignatureDoesNotMatch" or "IncompleteSignature"
            or "InvalidSignatureException" or "IncompleteSignatureException" or "MissingAuthenticationToken" or "InvalidAccessKeyId" =>
            "The AWS credentials were rejected: check aws.credentials (the access key, its secret, or the profile) and the system clock.",
        "ExpiredToken" or "ExpiredTokenException" or "RequestExpired" =>
            "The AWS session has expired: refresh the credentials of the profile or environment.",
        "AccessDenied" or "AccessDeniedException" or "UnauthorizedOperation" when service == "sts" =>
            $"The base credentials may not assume the role for account {scope.AccountId}: check the role's trust policy and aws.accounts[].roleArn.",
        "AccessDenied" or "AccessDeniedException" or "UnauthorizedOperation" =>
            $"The identity used for account {scope.AccountId} lacks this permission: grant ec2:DescribeInstances, ssm:DescribeInstanceInformation, ssm:SendCommand, ssm:ListCommandInvocations and ssm:GetCommandInvocation in {scope.Region}.",
        "InvalidInstanceId" or "InvalidInstanceIdException" =>
            "At least one instance is not a running, SSM-managed node in this account and region (SSM refuses the whole call): check its state and that the SSM agent is online.",
        "OptInRequired" or "InvalidRegion" or "UnrecognizedRegion" =>
            $"Region {scope.Region} is not enabled for account {scope.AccountId}: enable it or remove it from aws.accounts[].regions.",
        "InvalidDocument" or "InvalidDocumentException" =>
            "The Run Command document is not available in this region.",
        "ValidationException" or "InvalidParameterValue" or "InvalidParameterCombination" or "InvalidParameters" or "InvalidParametersException" =>
            "AWS refused the request's parameters.",
        _ => "",
    };
}
