using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Arcboard.Core.Configuration;

namespace Arcboard.Core.Tests.Configuration;

public sealed class ConfigLoaderTests : IDisposable
{
    private const string Tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    private const string Subscription = "00000000-0000-0000-0000-000000000001";
    private readonly string _folder = Directory.CreateTempSubdirectory("arcboard-config-").FullName;
    private readonly Dictionary<string, string> _env = new() { ["ARCBOARD_TEST_AWS_SECRET"] = "s3cr3t", ["ARCBOARD_TEST_AZ_SECRET"] = "x" };

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Minimal(string aws = """{ "accounts": [ { "accountId": "123456789012", "regions": ["us-east-1"] } ] }""", string azure = "", string rest = "") => $$"""
        {
          "aws": {{aws}},
          "azure": { "tenantId": "{{Tenant}}", "subscriptionId": "{{Subscription}}"{{azure}} }{{rest}}
        }
        """;

    private ArcboardOptions Parse(string json) => ConfigLoader.Parse(json, _folder, "test.json", name => _env.GetValueOrDefault(name));

    private ConfigException Fails(string json) => Should.Throw<ConfigException>(() => Parse(json));

    private static void ShouldReport(ConfigException failure, string path, string fragment) =>
        failure.Problems.ShouldContain(p => p.Path == path && p.Message.Contains(fragment, StringComparison.Ordinal),
            $"expected a problem at {path} containing \"{fragment}\"; got:\n{failure.Message}");

    [Fact]
    public void A_minimal_config_gets_the_defaults()
    {
        var options = Parse(Minimal());

        options.Store.Sqlite.ShouldBe(Path.Combine(_folder, "arcboard.db"));
        options.Aws.Credentials.Type.ShouldBe("default");
        options.Aws.Accounts.ShouldHaveSingleItem().Regions.ShouldBe(["us-east-1"]);
        options.Azure.ArmEndpoint.ShouldBe("https://management.azure.com");
        options.Azure.ResourceGroup.ShouldBe("aws_{accountId}");
        options.Azure.MachineName.ShouldBe("{instanceId}");
        options.Azure.Cloud.ShouldBe("AzureCloud");
        options.Onboarding.ShouldBe(new OnboardingOptions());
    }

    [Fact]
    public void A_full_config_with_comments_and_trailing_commas_loads_every_value()
    {
        var certificate = WriteCertificate("certs/sandbox.pem");
        var json = $$"""
            // Arcboard configuration
            {
              "$schema": "https://example.invalid/arcboard.schema.json",
              "store": { "sqlite": "data/state.db" },
              "aws": {
                "endpoint": "http://127.0.0.1:4566",
                "credentials": { "type": "static", "accessKeyId": "AKIAEXAMPLE", "secretAccessKeyEnv": "ARCBOARD_TEST_AWS_SECRET" },
                "accounts": [
                  { "accountId": "123456789012", "regions": ["us-east-1", "eu-west-2"], "roleArn": "arn:aws:iam::123456789012:role/ArcForServer" },
                  { "accountId": "012345678901", "regions": ["us-gov-west-1"], },
                ],
                "tagFilter": { "key": "arc", "value": "yes" },
              },
              "azure": {
                "tenantId": "{{Tenant}}",
                "subscriptionId": "{{Subscription}}",
                "armEndpoint": "https://127.0.0.1:8443",
                "credential": { "type": "clientSecret", "clientId": "11111111-2222-3333-4444-555555555555", "clientSecretEnv": "ARCBOARD_TEST_AZ_SECRET", "authorityHost": "https://127.0.0.1:8443/" },
                "caCertificate": "certs/sandbox.pem",
                "resourceGroup": "arc-{accountId}-{location}",
                "machineName": "{tag:Name}-{instanceId}",
                "regionMap": { "us-gov-west-1": "westus2" },
                "defaultLocation": "northeurope",
                "tags": { "owner": "platform", "cost-center": "42" },
                "cloud": "AzureCloud",
              },
              "onboarding": { "commandTimeoutSeconds": 900, "pollIntervalSeconds": 0.5, "maxParallelScopes": 8, "maxParallelArmCalls": 16, "quotaScale": 10 },
            }
            """;

        var options = Parse(json);

        options.Store.Sqlite.ShouldBe(Path.Combine(_folder, "data", "state.db"));
        options.Aws.Endpoint.ShouldBe("http://127.0.0.1:4566");
        options.Aws.Credentials.ShouldBe(new AwsCredentialOptions { Type = "static", AccessKeyId = "AKIAEXAMPLE", SecretAccessKeyEnv = "ARCBOARD_TEST_AWS_SECRET" });
        options.Aws.Accounts.Count.ShouldBe(2);
        options.Aws.Accounts[0].RoleArn.ShouldBe("arn:aws:iam::123456789012:role/ArcForServer");
        options.Aws.Accounts[0].Regions.ShouldBe(["us-east-1", "eu-west-2"]);
        options.Aws.Accounts[1].AccountId.ShouldBe("012345678901");
        options.Aws.TagFilter.ShouldBe(new TagFilterOptions { Key = "arc", Value = "yes" });
        options.Azure.CaCertificate.ShouldBe(certificate);
        options.Azure.Credential.ClientSecretEnv.ShouldBe("ARCBOARD_TEST_AZ_SECRET");
        options.Azure.ResourceGroup.ShouldBe("arc-{accountId}-{location}");
        options.Azure.MachineName.ShouldBe("{tag:Name}-{instanceId}");
        options.Azure.RegionMap.ShouldBe(new Dictionary<string, string> { ["us-gov-west-1"] = "westus2" });
        options.Azure.DefaultLocation.ShouldBe("northeurope");
        options.Azure.Tags["cost-center"].ShouldBe("42");
        options.Onboarding.ShouldBe(new OnboardingOptions { CommandTimeoutSeconds = 900, PollIntervalSeconds = 0.5, MaxParallelScopes = 8, MaxParallelArmCalls = 16, QuotaScale = 10 });
    }

    [Fact]
    public void Load_resolves_relative_paths_against_the_config_folder_not_the_working_directory()
    {
        var sub = Path.Combine(_folder, "etc");
        Directory.CreateDirectory(sub);
        var certificate = WriteCertificate("etc/ca.pem");
        var file = Path.Combine(sub, "arcboard.json");
        File.WriteAllText(file, Minimal(azure: """, "caCertificate": "ca.pem" """, rest: """, "store": { "sqlite": "../var/arcboard.db" }"""));

        var options = ConfigLoader.Load(file);

        options.Store.Sqlite.ShouldBe(Path.Combine(_folder, "var", "arcboard.db"));
        options.Azure.CaCertificate.ShouldBe(certificate);
    }

    [Fact]
    public void Absolute_paths_are_kept()
    {
        var absolute = Path.Combine(_folder, "elsewhere", "x.db");
        Parse(Minimal(rest: $$""", "store": { "sqlite": "{{absolute}}" }""")).Store.Sqlite.ShouldBe(absolute);
    }

    [Fact]
    public void A_missing_file_says_so_and_names_it()
    {
        var path = Path.Combine(_folder, "nope.json");
        var failure = Should.Throw<ConfigException>(() => ConfigLoader.Load(path));
        failure.Message.ShouldBe($"Configuration '{path}': the file does not exist; create it (the README documents every key) or pass the right path with --config");
    }

    [Fact]
    public void A_folder_given_as_the_file_says_so()
    {
        var failure = Should.Throw<ConfigException>(() => ConfigLoader.Load(_folder));
        failure.Problems.ShouldHaveSingleItem().Message.ShouldBe("is a folder; pass the configuration file inside it");
    }

    [Fact]
    public void An_empty_file_is_invalid_JSON()
    {
        var path = Path.Combine(_folder, "empty.json");
        File.WriteAllText(path, "");
        Should.Throw<ConfigException>(() => ConfigLoader.Load(path)).Message.ShouldStartWith($"Configuration '{path}': is not valid JSON:");
    }

    [Fact]
    public void Invalid_JSON_gives_line_and_position()
    {
        var failure = Fails("{\n  \"aws\": {\n    \"accounts\" []\n  }\n}");
        failure.Problems.ShouldHaveSingleItem().Message.ShouldStartWith("is not valid JSON: line 3, position 16:");
        failure.Message.ShouldNotContain("LineNumber");
    }

    [Fact]
    public void A_root_that_is_not_an_object_is_refused()
    {
        ShouldReport(Fails("[1, 2]"), "", "must be a JSON object");
    }

    [Fact]
    public void An_unknown_key_is_an_error_naming_where_it_is_and_suggesting_the_right_one()
    {
        var failure = Fails(Minimal(azure: """, "subscriptonId": "x" """));
        ShouldReport(failure, "azure.subscriptonId", "unknown key; did you mean 'subscriptionId'?");
        ShouldReport(failure, "azure.subscriptonId", "Keys allowed in 'azure':");
    }

    [Fact]
    public void Unknown_keys_are_found_at_every_level()
    {
        var failure = Fails("""
            {
              "colour": 1,
              "store": { "sqllite": "a.db" },
              "aws": { "accounts": [ { "accountId": "123456789012", "regions": ["us-east-1"], "Region": "x" } ], "credentials": { "type": "default", "profil": "p" } },
              "azure": { "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "subscriptionId": "00000000-0000-0000-0000-000000000001", "credential": { "secret": "do-not-echo" } },
              "onboarding": { "pollInterval": 3 }
            }
            """);

        failure.Problems.Select(p => p.Path).ShouldBe(
            ["store.sqllite", "aws.credentials.profil", "aws.accounts[0].Region", "azure.credential.secret", "onboarding.pollInterval", "colour"], ignoreOrder: true);
        ShouldReport(failure, "store.sqllite", "did you mean 'sqlite'?");
        ShouldReport(failure, "aws.accounts[0].Region", "did you mean 'regions'?");
        failure.Message.ShouldNotContain("do-not-echo");
    }

    [Fact]
    public void Account_ids_regions_and_role_arns_are_checked()
    {
        var failure = Fails(Minimal(aws: """
            { "accounts": [
                { "accountId": "12345", "regions": ["us-east-1", "US-EAST-1", "useast1", "us-east-1"] },
                { "accountId": 123456789012, "regions": [] },
                { "accountId": "222222222222", "regions": ["eu-west-1"], "roleArn": "arn:aws:iam::333333333333:role/ArcForServer" },
                { "accountId": "222222222222", "regions": ["eu-west-2"], "roleArn": "role/ArcForServer" },
                { "regions": ["eu-west-2", 7] },
                { "accountId": "٠١٢٣٤٥٦٧٨٩٠١", "regions": ["ap-southeast-2"] }
            ] }
            """));

        ShouldReport(failure, "aws.accounts[0].accountId", "'12345' is not an AWS account id; set the 12 digits in quotes");
        ShouldReport(failure, "aws.accounts[0].regions[1]", "'US-EAST-1' is not an AWS region name");
        ShouldReport(failure, "aws.accounts[0].regions[2]", "'useast1' is not an AWS region name");
        ShouldReport(failure, "aws.accounts[0].regions[3]", "'us-east-1' is listed twice");
        ShouldReport(failure, "aws.accounts[1].accountId", "must be a string in double quotes, not a number; write \"123456789012\"");
        ShouldReport(failure, "aws.accounts[1].regions", "lists no region");
        ShouldReport(failure, "aws.accounts[2].roleArn", "the role is in account 333333333333 but accountId is 222222222222");
        ShouldReport(failure, "aws.accounts[3].accountId", "'222222222222' is already listed at aws.accounts[2]");
        ShouldReport(failure, "aws.accounts[3].roleArn", "'role/ArcForServer' is not an IAM role ARN");
        ShouldReport(failure, "aws.accounts[4].accountId", "is required");
        ShouldReport(failure, "aws.accounts[4].regions[1]", "must be a string");
        ShouldReport(failure, "aws.accounts[5].accountId", "is not an AWS account id");
        failure.Problems.Count(p => p.Path == "aws.accounts[4].accountId").ShouldBe(1);
    }

    [Fact]
    public void At_least_one_account_is_required()
    {
        ShouldReport(Fails(Minimal(aws: """{ "accounts": [] }""")), "aws.accounts", "lists no account");
        ShouldReport(Fails(Minimal(aws: "{ }")), "aws.accounts", "is required");
    }

    [Fact]
    public void Missing_sections_are_reported_together()
    {
        var failure = Fails("{ }");
        ShouldReport(failure, "aws", "is required");
        ShouldReport(failure, "azure", "is required");
        failure.Problems.Count.ShouldBe(2);
        failure.Message.ShouldStartWith("Configuration 'test.json' has 2 problems:");
    }

    [Fact]
    public void Role_arns_in_other_partitions_and_with_paths_are_accepted()
    {
        var options = Parse(Minimal(aws: """
            { "accounts": [
                { "accountId": "123456789012", "regions": ["us-gov-west-1"], "roleArn": "arn:aws-us-gov:iam::123456789012:role/ops/ArcForServer" }
            ] }
            """));
        options.Aws.Accounts[0].RoleArn.ShouldBe("arn:aws-us-gov:iam::123456789012:role/ops/ArcForServer");
    }

    [Theory]
    [InlineData("""{ "type": "sso" }""", "aws.credentials.type", "'sso' is not a credential type; use one of \"default\", \"profile\", \"static\"")]
    [InlineData("""{ "type": "profile" }""", "aws.credentials.profile", "is required when type is \"profile\"")]
    [InlineData("""{ "type": "default", "profile": "dev" }""", "aws.credentials.profile", "is only used when type is \"profile\"")]
    [InlineData("""{ "type": "static", "secretAccessKeyEnv": "ARCBOARD_TEST_AWS_SECRET" }""", "aws.credentials.accessKeyId", "is required when type is \"static\"")]
    [InlineData("""{ "type": "static", "accessKeyId": "AKIA" }""", "aws.credentials.secretAccessKeyEnv", "is required when type is \"static\"")]
    [InlineData("""{ "type": "static", "accessKeyId": "AKIA", "secretAccessKeyEnv": "ARCBOARD_TEST_UNSET" }""", "aws.credentials.secretAccessKeyEnv", "names the environment variable ARCBOARD_TEST_UNSET, which is not set")]
    [InlineData("""{ "type": "static", "accessKeyId": "AKIA", "secretAccessKey": "hunter2", "secretAccessKeyEnv": "ARCBOARD_TEST_AWS_SECRET" }""", "aws.credentials.secretAccessKey", "are both set")]
    [InlineData("""{ "type": "default", "secretAccessKey": "hunter2" }""", "aws.credentials.secretAccessKey", "is only used when type is \"static\"")]
    [InlineData("""{ "type": "static", "accessKeyId": "AKIA", "secretAccessKey": 12345 }""", "aws.credentials.secretAccessKey", "must be a string in double quotes, not a number")]
    public void Aws_credentials_are_checked(string credentials, string path, string fragment)
    {
        var failure = Fails(Minimal(aws: $$"""{ "credentials": {{credentials}}, "accounts": [ { "accountId": "123456789012", "regions": ["us-east-1"] } ] }"""));
        ShouldReport(failure, path, fragment);
        failure.Message.ShouldNotContain("hunter2");
        failure.Message.ShouldNotContain("12345\"");
    }

    [Fact]
    public void Static_credentials_with_an_inline_secret_load_for_sandboxes()
    {
        var options = Parse(Minimal(aws: """{ "credentials": { "type": "static", "accessKeyId": "test", "secretAccessKey": "test" }, "accounts": [ { "accountId": "123456789012", "regions": ["us-east-1"] } ] }"""));
        options.Aws.Credentials.SecretAccessKey.ShouldBe("test");
    }

    [Theory]
    [InlineData("\"tenantId\": \"not-a-guid\", \"subscriptionId\": \"00000000-0000-0000-0000-000000000001\"", "azure.tenantId", "'not-a-guid' is not a GUID; set the Entra ID tenant id")]
    [InlineData("\"tenantId\": \"72f988bf-86f1-41af-91ab-2d7cd011db47\", \"subscriptionId\": \"{00000000-0000-0000-0000-000000000001}\"", "azure.subscriptionId", "is not a GUID")]
    [InlineData("\"tenantId\": \"72f988bf-86f1-41af-91ab-2d7cd011db47\"", "azure.subscriptionId", "is required; set the Azure subscription id")]
    public void Azure_ids_are_guids(string ids, string path, string fragment)
    {
        ShouldReport(Fails($$"""{ "aws": { "accounts": [ { "accountId": "123456789012", "regions": ["us-east-1"] } ] }, "azure": { {{ids}} } }"""), path, fragment);
    }

    [Theory]
    [InlineData("""  "armEndpoint": "http://127.0.0.1:8443" """, "azure.armEndpoint", "must use https")]
    [InlineData("""  "armEndpoint": "management.azure.com" """, "azure.armEndpoint", "is not an absolute https URL")]
    [InlineData("""  "armEndpoint": "https://user:pw@example.com" """, "azure.armEndpoint", "must not carry a user name or password")]
    [InlineData("""  "credential": { "type": "managedIdentity" } """, "azure.credential.type", "use one of \"default\", \"clientSecret\"")]
    [InlineData("""  "credential": { "type": "clientSecret", "clientSecretEnv": "ARCBOARD_TEST_AZ_SECRET" } """, "azure.credential.clientId", "is required when type is \"clientSecret\"")]
    [InlineData("""  "credential": { "type": "clientSecret", "clientId": "app", "clientSecretEnv": "ARCBOARD_TEST_AZ_SECRET" } """, "azure.credential.clientId", "'app' is not a GUID")]
    [InlineData("""  "credential": { "type": "clientSecret", "clientId": "11111111-2222-3333-4444-555555555555" } """, "azure.credential.clientSecretEnv", "is required when type is \"clientSecret\"")]
    [InlineData("""  "credential": { "type": "default", "clientSecret": "hunter2" } """, "azure.credential.clientSecret", "is only used when type is \"clientSecret\"")]
    [InlineData("""  "credential": { "authorityHost": "http://login" } """, "azure.credential.authorityHost", "must use https")]
    [InlineData("""  "caCertificate": "missing.pem" """, "azure.caCertificate", "does not exist")]
    [InlineData("""  "regionMap": { "us-east-1": "East US", "useast": "eastus" } """, "azure.regionMap.us-east-1", "'East US' is not an Azure location name")]
    [InlineData("""  "regionMap": { "useast": "eastus" } """, "azure.regionMap.useast", "'useast' is not an AWS region name")]
    [InlineData("""  "defaultLocation": "West Europe" """, "azure.defaultLocation", "is not an Azure location name")]
    [InlineData("""  "tags": { "a/b": "x" } """, "azure.tags[\"a/b\"]", "contains one of < > % & \\ ? /")]
    [InlineData("""  "tags": { "owner": 5 } """, "azure.tags.owner", "must be a string")]
    [InlineData("""  "tags": { "azure-owner": "x" } """, "azure.tags.azure-owner", "reserved by Azure")]
    [InlineData("""  "cloud": "AzureGermanCloud" """, "azure.cloud", "use one of \"AzureCloud\", \"AzureUSGovernment\", \"AzureChinaCloud\"")]
    public void Azure_settings_are_checked(string setting, string path, string fragment)
    {
        var failure = Fails(Minimal(azure: ", " + setting));
        ShouldReport(failure, path, fragment);
        failure.Message.ShouldNotContain("hunter2");
    }

    [Fact]
    public void Tag_lengths_and_count_follow_ARM_limits()
    {
        var tags = string.Join(", ", Enumerable.Range(0, 51).Select(i => $"\"t{i}\": \"v\""));
        var failure = Fails(Minimal(azure: $$""", "tags": { {{tags}}, "{{new string('n', 513)}}": "{{new string('v', 257)}}" }"""));
        ShouldReport(failure, "azure.tags", "has 52 tags; ARM allows at most 50");
        ShouldReport(failure, $"azure.tags.{new string('n', 513)}", "the tag name has 513 characters; ARM allows at most 512");
        ShouldReport(failure, $"azure.tags.{new string('n', 513)}", "the value has 257 characters; ARM allows at most 256");
    }

    [Fact]
    public void A_file_that_is_not_a_PEM_certificate_is_refused()
    {
        File.WriteAllText(Path.Combine(_folder, "key.pem"), "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
        ShouldReport(Fails(Minimal(azure: """, "caCertificate": "key.pem" """)), "azure.caCertificate", "holds no PEM certificate");
    }

    [Theory]
    [InlineData("resourceGroup", "aws_{accountid}", "'{accountid}' is not a token here; tokens are {accountId}, {region}, {location}")]
    [InlineData("resourceGroup", "rg-{instanceId}", "'{instanceId}' is not a token here")]
    [InlineData("resourceGroup", "rg-{accountId", "is never closed")]
    [InlineData("resourceGroup", "rg/{accountId}", "makes names such as 'rg/123456789012', which ARM refuses")]
    [InlineData("resourceGroup", "rg-{accountId}.", "not ending in '.'")]
    [InlineData("resourceGroup", "", "which ARM refuses")]
    [InlineData("machineName", "server", "gives every instance the same name")]
    [InlineData("machineName", "{tag:}", "names no tag")]
    [InlineData("machineName", "{location}-{instanceId}", "'{location}' is not a token here; tokens are {instanceId}, {accountId}, {region}, {tag:KEY}")]
    [InlineData("machineName", "{accountId}-{region}-{instanceId}-long-suffix", "at most 54 characters")]
    [InlineData("machineName", "vm {instanceId}", "makes names such as 'vm i-0123456789abcdef0'")]
    [InlineData("machineName", "}{instanceId}", "closes no token")]
    public void Name_templates_are_checked_with_sample_values(string key, string template, string fragment)
    {
        ShouldReport(Fails(Minimal(azure: $$""", "{{key}}": "{{template}}" """)), $"azure.{key}", fragment);
    }

    [Theory]
    [InlineData("commandTimeoutSeconds", "10", "10 is out of range; set the seconds a Run Command script may run between 30 and 172800")]
    [InlineData("commandTimeoutSeconds", "172801", "between 30 and 172800")]
    [InlineData("commandTimeoutSeconds", "60.5", "must be a whole number, not a number")]
    [InlineData("pollIntervalSeconds", "0", "between 0.1 and 300")]
    [InlineData("pollIntervalSeconds", "\"2\"", "must be a number, not a string")]
    [InlineData("maxParallelScopes", "0", "between 1 and 256")]
    [InlineData("maxParallelArmCalls", "1000", "between 1 and 200")]
    [InlineData("quotaScale", "0", "between 0.01 and 1000")]
    public void Onboarding_numbers_are_range_checked(string key, string value, string fragment)
    {
        ShouldReport(Fails(Minimal(rest: $$""", "onboarding": { "{{key}}": {{value}} }""")), $"onboarding.{key}", fragment);
    }

    [Fact]
    public void Several_problems_are_listed_together_in_one_exception()
    {
        var failure = Fails("""
            {
              "aws": { "accounts": [ { "accountId": "1", "regions": ["mars-1"] } ] },
              "azure": { "tenantId": "t", "subscriptonId": "s", "armEndpoint": "http://x" },
              "onboarding": { "maxParallelScopes": -1 }
            }
            """);

        failure.Problems.Select(p => p.Path).ShouldBe(
        [
            "aws.accounts[0].accountId",
            "aws.accounts[0].regions[0]",
            "azure.subscriptionId",
            "azure.subscriptonId",
            "azure.tenantId",
            "azure.armEndpoint",
            "onboarding.maxParallelScopes",
        ], ignoreOrder: true);
        failure.Message.ShouldStartWith("Configuration 'test.json' has 7 problems:");
        foreach (var problem in failure.Problems)
        {
            failure.Message.ShouldContain($"  - {problem.Path}: {problem.Message}");
        }
    }

    [Fact]
    public void Duplicate_keys_in_one_object_are_reported()
    {
        ShouldReport(Fails(Minimal(azure: """, "cloud": "AzureCloud", "cloud": "AzureChinaCloud" """)), "azure.cloud", "appears more than once");
    }

    [Fact]
    public void A_store_path_that_is_a_folder_is_refused()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "db"));
        ShouldReport(Fails(Minimal(rest: """, "store": { "sqlite": "db" }""")), "store.sqlite", "is a folder");
    }

    [Fact]
    public void Validate_checks_options_built_in_code()
    {
        var options = Parse(Minimal()) with { Onboarding = new OnboardingOptions { MaxParallelArmCalls = 0 } };
        ConfigLoader.Validate(options).ShouldHaveSingleItem().Path.ShouldBe("onboarding.maxParallelArmCalls");
    }

    private string WriteCertificate(string relativePath)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=arcboard-test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddYears(100));
        var path = Path.Combine(_folder, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return path;
    }
}
