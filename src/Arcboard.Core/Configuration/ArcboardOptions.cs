namespace Arcboard.Core.Configuration;

/// <summary>
/// The whole configuration file, as documented in the README. Loaded and validated by <see cref="ConfigLoader"/>;
/// relative paths are resolved against the folder of the configuration file.
/// </summary>
public sealed record ArcboardOptions
{
    public required StoreOptions Store { get; init; }
    public required AwsOptions Aws { get; init; }
    public required AzureOptions Azure { get; init; }
    public OnboardingOptions Onboarding { get; init; } = new();
    public CleanupOptions Cleanup { get; init; } = new();
}

public sealed record StoreOptions
{
    /// <summary>Path of the SQLite file.</summary>
    public string Sqlite { get; init; } = "arcboard.db";
}

public sealed record AwsOptions
{
    /// <summary>One endpoint for EC2, SSM and STS (a sandbox or a VPC endpoint); null means the public AWS endpoints.</summary>
    public string? Endpoint { get; init; }

    public AwsCredentialOptions Credentials { get; init; } = new();

    public required IReadOnlyList<AwsAccountOptions> Accounts { get; init; }

    /// <summary>Only instances carrying this tag (and value, when given) are onboarded.</summary>
    public TagFilterOptions? TagFilter { get; init; }
}

public sealed record AwsCredentialOptions
{
    /// <summary><c>default</c> (the SDK's chain), <c>profile</c> or <c>static</c>.</summary>
    public string Type { get; init; } = "default";

    public string? Profile { get; init; }
    public string? AccessKeyId { get; init; }

    /// <summary>The secret itself, for sandboxes; prefer <see cref="SecretAccessKeyEnv"/>.</summary>
    public string? SecretAccessKey { get; init; }

    /// <summary>Name of an environment variable holding the secret access key.</summary>
    public string? SecretAccessKeyEnv { get; init; }
}

public sealed record AwsAccountOptions
{
    public required string AccountId { get; init; }
    public required IReadOnlyList<string> Regions { get; init; }

    /// <summary>A role to assume into this account; null means the base credentials already act in it.</summary>
    public string? RoleArn { get; init; }
}

public sealed record TagFilterOptions
{
    public required string Key { get; init; }
    public string? Value { get; init; }
}

public sealed record AzureOptions
{
    public required string TenantId { get; init; }
    public required string SubscriptionId { get; init; }

    /// <summary>ARM's base address.</summary>
    public string ArmEndpoint { get; init; } = "https://management.azure.com";

    public AzureCredentialOptions Credential { get; init; } = new();

    /// <summary>A PEM file with the only certificate to trust for ARM and the token endpoint (a sandbox); null means the system's trust store.</summary>
    public string? CaCertificate { get; init; }

    /// <summary>Resource group name template; tokens: {accountId}, {region}, {location}.</summary>
    public string ResourceGroup { get; init; } = "aws_{accountId}";

    /// <summary>Machine name template; tokens: {instanceId}, {accountId}, {region}, and {tag:KEY}.</summary>
    public string MachineName { get; init; } = "{instanceId}";

    /// <summary>AWS region to Azure location; merged over the built-in map.</summary>
    public IReadOnlyDictionary<string, string> RegionMap { get; init; } = new Dictionary<string, string>();

    /// <summary>Location for a region absent from both maps; null makes such instances fail with a reason.</summary>
    public string? DefaultLocation { get; init; }

    /// <summary>Tags added to every machine Arcboard creates.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>The cloud passed to <c>azcmagent connect --cloud</c>.</summary>
    public string Cloud { get; init; } = "AzureCloud";
}

public sealed record AzureCredentialOptions
{
    /// <summary><c>default</c> (DefaultAzureCredential) or <c>clientSecret</c>.</summary>
    public string Type { get; init; } = "default";

    public string? ClientId { get; init; }
    public string? ClientSecret { get; init; }
    public string? ClientSecretEnv { get; init; }

    /// <summary>Entra ID authority; null means the public cloud.</summary>
    public string? AuthorityHost { get; init; }
}

public sealed record OnboardingOptions
{
    /// <summary>How long a Run Command script may run on the instance.</summary>
    public int CommandTimeoutSeconds { get; init; } = 600;

    /// <summary>How often command results are read while waiting.</summary>
    public double PollIntervalSeconds { get; init; } = 2;

    /// <summary>Account-regions worked on at once.</summary>
    public int MaxParallelScopes { get; init; } = 4;

    /// <summary>ARM calls in flight at once per subscription.</summary>
    public int MaxParallelArmCalls { get; init; } = 32;

    /// <summary>
    /// Multiplies the refill rates Arcboard assumes before a cloud says otherwise (ARM's published buckets, the SSM and
    /// EC2 rates). 1 for the real clouds; a sandbox on a clock X times faster needs X, or SSM, which reports no remaining
    /// quota, would be paced at a tenth of what it allows.
    /// </summary>
    public double QuotaScale { get; init; } = 1;
}

public sealed record CleanupOptions
{
    /// <summary>Delete the machine Arcboard created for an instance that is terminated or gone from a complete EC2 listing.</summary>
    public bool DeleteTerminated { get; init; } = true;

    /// <summary>Also delete the machine of a stopped instance; off by default, since a stopped instance usually starts again.</summary>
    public bool DeleteStopped { get; init; }
}
