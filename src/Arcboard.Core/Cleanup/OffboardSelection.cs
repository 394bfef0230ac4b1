using Arcboard.Core.Fleet;

namespace Arcboard.Core.Cleanup;

/// <summary>Which instances <c>arcboard offboard</c> acts on: one instance id, every instance with a tag, or all.</summary>
public sealed record OffboardSelection
{
    public string? InstanceId { get; init; }
    public string? AccountId { get; init; }
    public string? Region { get; init; }
    public string? TagKey { get; init; }
    public string? TagValue { get; init; }
    public bool All { get; init; }

    public bool Covers(AwsScope scope) =>
        (AccountId is null || AccountId == scope.AccountId) && (Region is null || Region == scope.Region);

    /// <summary>True when the instance is selected; <paramref name="tags"/> is null when EC2 no longer lists it (a tag filter cannot match then).</summary>
    public bool Matches(InstanceKey key, IReadOnlyDictionary<string, string>? tags)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!Covers(new AwsScope(key.AccountId, key.Region)))
        {
            return false;
        }

        if (InstanceId is not null)
        {
            return key.InstanceId == InstanceId;
        }

        if (TagKey is not null)
        {
            return tags is not null && tags.TryGetValue(TagKey, out var value) && (TagValue is null || value == TagValue);
        }

        return All;
    }
}
