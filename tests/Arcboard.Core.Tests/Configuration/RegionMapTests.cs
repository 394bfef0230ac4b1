using Arcboard.Core.Configuration;

namespace Arcboard.Core.Tests.Configuration;

public sealed class RegionMapTests
{
    private static AzureOptions Azure(Dictionary<string, string>? map = null, string? defaultLocation = null) => new()
    {
        TenantId = "t",
        SubscriptionId = "s",
        RegionMap = map ?? [],
        DefaultLocation = defaultLocation,
    };

    [Theory]
    [InlineData("us-east-1", "eastus")]
    [InlineData("us-west-2", "eastus")]
    [InlineData("ca-central-1", "eastus")]
    [InlineData("ap-southeast-1", "southeastasia")]
    [InlineData("ap-northeast-3", "southeastasia")]
    [InlineData("ap-south-1", "southeastasia")]
    [InlineData("ap-southeast-2", "australiaeast")]
    [InlineData("eu-north-1", "westeurope")]
    [InlineData("eu-west-2", "uksouth")]
    [InlineData("sa-east-1", "brazilsouth")]
    public void The_built_in_map_matches_Azures_connector(string region, string location)
    {
        RegionMap.ResolveLocation(Azure(), region).ShouldBe(location);
    }

    [Fact]
    public void Configured_entries_win_over_the_built_in_map()
    {
        var azure = Azure(new() { ["us-east-1"] = "eastus2", ["me-south-1"] = "uaenorth" });
        RegionMap.ResolveLocation(azure, "us-east-1").ShouldBe("eastus2");
        RegionMap.ResolveLocation(azure, "me-south-1").ShouldBe("uaenorth");
        RegionMap.ResolveLocation(azure, "us-west-2").ShouldBe("eastus");
    }

    [Fact]
    public void An_unmapped_region_falls_back_to_the_default_location_or_null()
    {
        RegionMap.ResolveLocation(Azure(defaultLocation: "northeurope"), "af-south-1").ShouldBe("northeurope");
        RegionMap.ResolveLocation(Azure(), "af-south-1").ShouldBeNull();
        RegionMap.ResolveLocation(Azure(defaultLocation: "northeurope"), "eu-west-1").ShouldBe("westeurope");
    }

    [Fact]
    public void Every_built_in_entry_is_a_valid_region_and_location()
    {
        var options = ConfigLoader.Parse($$"""
            {
              "aws": { "accounts": [ { "accountId": "123456789012", "regions": ["us-east-1"] } ] },
              "azure": { "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "subscriptionId": "00000000-0000-0000-0000-000000000001",
                         "regionMap": { {{string.Join(", ", RegionMap.Default.Select(e => $"\"{e.Key}\": \"{e.Value}\""))}} } }
            }
            """, Path.GetTempPath(), "test");
        options.Azure.RegionMap.Count.ShouldBe(RegionMap.Default.Count);
    }
}
