namespace Arcboard.Sandbox.Hosting;

/// <summary>Everything a client needs to talk to a running sandbox. Holds secrets: do not log it.</summary>
public sealed record SandboxEndpoints
{
    /// <summary>http://127.0.0.1:{port}: SSM, EC2 and STS all answer here (ServiceURL / endpoint_url).</summary>
    public required string AwsEndpoint { get; init; }

    /// <summary>The default region: the first region of the first account.</summary>
    public required string Region { get; init; }

    public required string AccessKeyId { get; init; }
    public required string SecretAccessKey { get; init; }

    /// <summary>https://127.0.0.1:{port}: ARM.</summary>
    public required string ArmEndpoint { get; init; }

    /// <summary>The Entra ID authority (the same HTTPS base URL).</summary>
    public required string AuthorityHost { get; init; }

    /// <summary>The identity service agents prove their key to (the same HTTPS base URL).</summary>
    public required string IdentityEndpoint { get; init; }

    public required string TenantId { get; init; }
    public required string ClientId { get; init; }
    public required string ClientSecret { get; init; }
    public required string SubscriptionId { get; init; }

    /// <summary>PEM of the only certificate to trust for the HTTPS endpoints.</summary>
    public required string CaCertificatePath { get; init; }

    /// <summary>http://127.0.0.1:{port}/_sandbox.</summary>
    public required string AdminUrl { get; init; }

    /// <summary>The fleet's accounts; the base key acts in the first, AssumeRole reaches the others.</summary>
    public required IReadOnlyList<string> AccountIds { get; init; }

    public override string ToString() => $"AWS {AwsEndpoint} ({Region}), Azure {ArmEndpoint}, admin {AdminUrl}";
}
