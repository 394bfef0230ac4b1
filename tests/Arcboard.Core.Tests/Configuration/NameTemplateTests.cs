using Arcboard.Core.Configuration;

namespace Arcboard.Core.Tests.Configuration;

public sealed class NameTemplateTests
{
    private static AzureOptions Azure(string resourceGroup = "aws_{accountId}", string machineName = "{instanceId}") => new()
    {
        TenantId = "t",
        SubscriptionId = "s",
        ResourceGroup = resourceGroup,
        MachineName = machineName,
    };

    private static NameExpansion Machine(string template, params (string Key, string Value)[] tags) =>
        NameTemplate.ExpandMachineName(Azure(machineName: template), "i-0abc", "123456789012", "eu-west-2", tags.ToDictionary(t => t.Key, t => t.Value));

    [Fact]
    public void Defaults_match_Azures_connector()
    {
        NameTemplate.ExpandResourceGroup(Azure(), "123456789012", "us-east-1", "eastus").Name.ShouldBe("aws_123456789012");
        Machine("{instanceId}").Name.ShouldBe("i-0abc");
    }

    [Fact]
    public void Every_token_expands()
    {
        NameTemplate.ExpandResourceGroup(Azure("arc-{accountId}-{region}-{location}"), "123456789012", "eu-west-2", "uksouth").Name
            .ShouldBe("arc-123456789012-eu-west-2-uksouth");
        Machine("{tag:Name}.{accountId}.{region}.{instanceId}", ("Name", "web_01")).Name
            .ShouldBe("web_01.123456789012.eu-west-2.i-0abc");
    }

    [Fact]
    public void Tag_keys_are_case_sensitive_like_EC2s()
    {
        var result = Machine("{tag:Name}", ("name", "web"));
        result.Succeeded.ShouldBeFalse();
        result.Error.ShouldBe("the machine name template '{tag:Name}' needs tag 'Name', which the instance does not have");
    }

    [Fact]
    public void An_empty_tag_is_an_error()
    {
        Machine("{tag:Name}-{instanceId}", ("Name", "")).Error.ShouldBe("the machine name template '{tag:Name}-{instanceId}' needs tag 'Name', which is empty on the instance");
    }

    [Theory]
    [InlineData("web 01")]
    [InlineData("../../etc")]
    [InlineData("a/b")]
    [InlineData("web\n")]
    [InlineData("web\r\nX-Injected: 1")]
    [InlineData("db;rm -rf /")]
    [InlineData("名前")]
    [InlineData("a:b")]
    [InlineData("{instanceId}")]
    [InlineData("web%2F01")]
    public void Hostile_tag_values_give_a_reason_not_a_name(string value)
    {
        var result = Machine("{tag:Name}", ("Name", value));

        result.Succeeded.ShouldBeFalse();
        result.Name.ShouldBeNull();
        result.Error!.ShouldContain("is not valid in Azure");
        result.Error.ShouldNotContain("\n");
        result.Error.ShouldNotContain("\r");
    }

    [Fact]
    public void A_tag_value_that_makes_the_name_too_long_is_refused_and_shown_shortened()
    {
        var result = Machine("{tag:Name}", ("Name", new string('a', 300)));
        result.Error!.ShouldContain("at most 54 characters");
        result.Error!.Length.ShouldBeLessThan(300);
    }

    [Fact]
    public void A_name_of_exactly_the_limit_is_accepted()
    {
        Machine("{tag:Name}", ("Name", new string('a', 54))).Name!.Length.ShouldBe(54);
        Machine("{tag:Name}", ("Name", new string('a', 55))).Succeeded.ShouldBeFalse();
    }

    [Fact]
    public void Resource_group_names_follow_ARM_rules()
    {
        NameTemplate.IsValidResourceGroupName("rg-(prod)_1.x").ShouldBeTrue();
        NameTemplate.IsValidResourceGroupName("rg.").ShouldBeFalse();
        NameTemplate.IsValidResourceGroupName("rg/x").ShouldBeFalse();
        NameTemplate.IsValidResourceGroupName("rg\n").ShouldBeFalse();
        NameTemplate.IsValidResourceGroupName(new string('r', 90)).ShouldBeTrue();
        NameTemplate.IsValidResourceGroupName(new string('r', 91)).ShouldBeFalse();
        NameTemplate.IsValidResourceGroupName("").ShouldBeFalse();
    }

    [Fact]
    public void An_invalid_template_reached_at_run_time_gives_a_reason()
    {
        var result = NameTemplate.ExpandResourceGroup(Azure("rg-{instanceId}"), "123456789012", "us-east-1", "eastus");
        result.Error.ShouldBe("the resource group template 'rg-{instanceId}' is invalid: '{instanceId}' is not a token here; tokens are {accountId}, {region}, {location}");
    }
}
