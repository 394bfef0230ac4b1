namespace Arcboard.Sandbox.Aws;

/// <summary>An error answered in the protocol of the service called (JSON for SSM, XML for EC2 and STS).</summary>
public sealed class AwsServiceException(string code, string message, int statusCode = 400, string faultType = "Sender") : Exception(message)
{
    public string Code { get; } = code;
    public int StatusCode { get; } = statusCode;

    /// <summary>STS's Sender/Receiver.</summary>
    public string FaultType { get; } = faultType;
}
