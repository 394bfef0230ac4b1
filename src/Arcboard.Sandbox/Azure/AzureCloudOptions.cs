using System.Security.Cryptography;

namespace Arcboard.Sandbox.Azure;

/// <summary>
/// Settings of the simulated Azure. A class, not a record: a record's ToString would print the client secret.
/// </summary>
public sealed class AzureCloudOptions
{
    public string TenantId { get; init; } = "00000000-0000-0000-0000-00000000a2c0";

    /// <summary>The one subscription the sandbox serves (matches the fleet file's default).</summary>
    public string SubscriptionId { get; init; } = "00000000-0000-0000-0000-000000000000";

    /// <summary>The service principal's application id accepted by the token endpoint.</summary>
    public string ClientId { get; init; } = "00000000-0000-0000-0000-00000000c11e";

    /// <summary>Random per start unless set, so no fixed secret is ever baked into a config file.</summary>
    public string ClientSecret { get; init; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));

    /// <summary>How many machines one list page holds before a <c>nextLink</c>.</summary>
    public int ListPageSize { get; init; } = 100;

    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromHours(1);

    public TimeSpan NonceLifetime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long after a key is registered (the PUT that carries it) the identity service accepts its proof. A key that
    /// waited longer is refused with ProofWindowClosed: an old key is more likely to have leaked than to be awaited.
    /// </summary>
    public TimeSpan ProofWindow { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How many polls of a delete operation answer "in progress" before it reports done.</summary>
    public int DeletePollsBeforeDone { get; init; } = 1;

    /// <summary>The Retry-After (seconds) of the delete's 202 and of in-progress polls.</summary>
    public int DeleteRetryAfterSeconds { get; init; }

    /// <summary>Throws one exception listing every invalid setting.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (!Guid.TryParse(TenantId, out _))
        {
            errors.Add($"{nameof(TenantId)} must be a GUID.");
        }

        if (!Guid.TryParse(SubscriptionId, out _))
        {
            errors.Add($"{nameof(SubscriptionId)} must be a GUID.");
        }

        if (string.IsNullOrWhiteSpace(ClientId))
        {
            errors.Add($"{nameof(ClientId)} must be set.");
        }

        if (string.IsNullOrEmpty(ClientSecret))
        {
            errors.Add($"{nameof(ClientSecret)} must be set.");
        }

        if (ListPageSize < 1)
        {
            errors.Add($"{nameof(ListPageSize)} must be at least 1.");
        }

        if (TokenLifetime <= TimeSpan.Zero || NonceLifetime <= TimeSpan.Zero || ProofWindow <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(TokenLifetime)}, {nameof(NonceLifetime)} and {nameof(ProofWindow)} must be positive.");
        }

        if (DeletePollsBeforeDone < 0 || DeleteRetryAfterSeconds < 0)
        {
            errors.Add($"{nameof(DeletePollsBeforeDone)} and {nameof(DeleteRetryAfterSeconds)} cannot be negative.");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid Azure sandbox options: " + string.Join(" ", errors));
        }
    }
}
