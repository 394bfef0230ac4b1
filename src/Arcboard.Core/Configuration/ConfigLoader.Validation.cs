using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace Arcboard.Core.Configuration;

public static partial class ConfigLoader
{
    public const int MinCommandTimeoutSeconds = 30;

    /// <summary>SSM's own ceiling for <c>executionTimeout</c>.</summary>
    public const int MaxCommandTimeoutSeconds = 172_800;

    public const double MinPollIntervalSeconds = 0.1;
    public const double MaxPollIntervalSeconds = 300;
    public const int MaxParallelScopesLimit = 256;

    /// <summary>ARM's write bucket per subscription and principal holds 200 requests.</summary>
    public const int MaxParallelArmCallsLimit = 200;
    public const double MinQuotaScale = 0.01;
    public const double MaxQuotaScale = 1000;

    /// <summary>ARM allows 50 tags on a resource.</summary>
    public const int MaxTags = 50;

    private static readonly string[] s_awsCredentialTypes = ["default", "profile", "static"];
    private static readonly string[] s_azureCredentialTypes = ["default", "clientSecret"];
    private static readonly string[] s_clouds = ["AzureCloud", "AzureUSGovernment", "AzureChinaCloud"];

    // Samples chosen long, so a template that fits with them fits with real values of the same kind.
    private const string SampleAccountId = "123456789012";
    private const string SampleRegion = "ap-southeast-2";
    private const string SampleLocation = "australiasoutheast";
    private const string SampleInstanceId = "i-0123456789abcdef0";
    private const string SampleTagValue = "web-01";

    private sealed class Validator(Func<string, string?> environment)
    {
        public List<ConfigProblem> Problems { get; } = [];

        private void Add(string path, string message) => Problems.Add(new(path, message));

        public void Run(ArcboardOptions options)
        {
            ValidateStore(options.Store);
            ValidateAws(options.Aws);
            ValidateAzure(options.Azure);
            ValidateOnboarding(options.Onboarding);
        }

        private void ValidateStore(StoreOptions store)
        {
            if (string.IsNullOrWhiteSpace(store.Sqlite))
            {
                Add("store.sqlite", "must not be empty; set the path of the SQLite state file, e.g. \"arcboard.db\"");
            }
            else if (store.Sqlite.Contains('\0', StringComparison.Ordinal) || !Path.IsPathFullyQualified(store.Sqlite))
            {
                Add("store.sqlite", "is not a usable path; set the path of the SQLite state file, e.g. \"arcboard.db\"");
            }
            else if (Directory.Exists(store.Sqlite))
            {
                Add("store.sqlite", $"'{store.Sqlite}' is a folder; set a file path such as '{Path.Combine(store.Sqlite, "arcboard.db")}'");
            }
        }

        private void ValidateAws(AwsOptions aws)
        {
            if (aws.Endpoint is not null)
            {
                ValidateUrl("aws.endpoint", aws.Endpoint, httpsOnly: false, "the base URL of EC2, SSM and STS (a sandbox or VPC endpoint), or remove it to use AWS's public endpoints");
            }

            ValidateAwsCredentials(aws.Credentials);

            if (aws.Accounts.Count == 0)
            {
                Add("aws.accounts", "lists no account; add at least one: { \"accountId\": \"123456789012\", \"regions\": [\"us-east-1\"] }");
            }

            var firstIndexOfAccount = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < aws.Accounts.Count; i++)
            {
                var account = aws.Accounts[i];
                var path = $"aws.accounts[{i}]";
                if (!AccountIdPattern().IsMatch(account.AccountId))
                {
                    Add($"{path}.accountId", $"'{account.AccountId}' is not an AWS account id; set the 12 digits in quotes, e.g. \"123456789012\"");
                }
                else if (firstIndexOfAccount.TryGetValue(account.AccountId, out var first))
                {
                    Add($"{path}.accountId", $"'{account.AccountId}' is already listed at aws.accounts[{first}]; list each account once with all its regions");
                }
                else
                {
                    firstIndexOfAccount[account.AccountId] = i;
                }

                if (account.Regions.Count == 0)
                {
                    Add($"{path}.regions", "lists no region; add at least one, e.g. [\"us-east-1\"]");
                }

                var seenRegions = new HashSet<string>(StringComparer.Ordinal);
                for (var r = 0; r < account.Regions.Count; r++)
                {
                    var region = account.Regions[r];
                    if (!AwsRegionPattern().IsMatch(region))
                    {
                        Add($"{path}.regions[{r}]", $"'{region}' is not an AWS region name; use the lower-case code such as \"us-east-1\" or \"eu-west-2\"");
                    }
                    else if (!seenRegions.Add(region))
                    {
                        Add($"{path}.regions[{r}]", $"'{region}' is listed twice for this account; remove one");
                    }
                }

                if (account.RoleArn is not null)
                {
                    var match = RoleArnPattern().Match(account.RoleArn);
                    if (!match.Success)
                    {
                        Add($"{path}.roleArn", $"'{account.RoleArn}' is not an IAM role ARN; set arn:aws:iam::<account id>:role/<name>, or remove it when the base credentials already act in this account");
                    }
                    else if (AccountIdPattern().IsMatch(account.AccountId) && match.Groups["account"].Value != account.AccountId)
                    {
                        Add($"{path}.roleArn", $"the role is in account {match.Groups["account"].Value} but accountId is {account.AccountId}; use the role of account {account.AccountId}");
                    }
                }
            }

            if (aws.TagFilter is { } filter)
            {
                if (filter.Key.Length is 0 or > 128)
                {
                    Add("aws.tagFilter.key", "must be an EC2 tag key of 1 to 128 characters");
                }

                if (filter.Value is { Length: > 256 })
                {
                    Add("aws.tagFilter.value", "must be at most 256 characters (EC2's limit for tag values)");
                }
            }
        }

        private void ValidateAwsCredentials(AwsCredentialOptions credentials)
        {
            const string Path = "aws.credentials";
            if (!s_awsCredentialTypes.Contains(credentials.Type, StringComparer.Ordinal))
            {
                Add($"{Path}.type", $"'{credentials.Type}' is not a credential type; use one of {Quote(s_awsCredentialTypes)}");
                return;
            }

            if (credentials.Type == "profile")
            {
                if (string.IsNullOrWhiteSpace(credentials.Profile))
                {
                    Add($"{Path}.profile", "is required when type is \"profile\"; set the name of a profile in the AWS config files");
                }
            }
            else if (credentials.Profile is not null)
            {
                Add($"{Path}.profile", "is only used when type is \"profile\"; remove it or set type \"profile\"");
            }

            if (credentials.Type == "static")
            {
                if (string.IsNullOrWhiteSpace(credentials.AccessKeyId))
                {
                    Add($"{Path}.accessKeyId", "is required when type is \"static\"; set the access key id");
                }

                ValidateSecret(Path, "secretAccessKey", credentials.SecretAccessKey, "secretAccessKeyEnv", credentials.SecretAccessKeyEnv, "\"static\"", "the secret access key");
            }
            else
            {
                foreach (var (name, value) in new[] { ("accessKeyId", credentials.AccessKeyId), ("secretAccessKey", credentials.SecretAccessKey), ("secretAccessKeyEnv", credentials.SecretAccessKeyEnv) })
                {
                    if (value is not null)
                    {
                        Add($"{Path}.{name}", "is only used when type is \"static\"; remove it or set type \"static\"");
                    }
                }
            }
        }

        /// <summary>Exactly one of an inline secret and an environment variable naming it; the variable must be set now, not at the first call an hour later.</summary>
        private void ValidateSecret(string path, string inlineKey, string? inline, string envKey, string? env, string typeName, string what)
        {
            if (inline is not null && env is not null)
            {
                Add($"{path}.{inlineKey}", $"and {envKey} are both set; keep only {envKey} (preferred: no secret in the file) or only {inlineKey}");
            }
            else if (inline is null && env is null)
            {
                Add($"{path}.{envKey}", $"is required when type is {typeName}; set the name of an environment variable holding {what} (or set {inlineKey}, for sandboxes)");
            }
            else if (inline is not null && inline.Length == 0)
            {
                Add($"{path}.{inlineKey}", $"is empty; set {what} or use {envKey}");
            }
            else if (env is not null)
            {
                if (env.Length == 0)
                {
                    Add($"{path}.{envKey}", "is empty; set the name of an environment variable");
                }
                else if (string.IsNullOrEmpty(environment(env)))
                {
                    Add($"{path}.{envKey}", $"names the environment variable {env}, which is not set for this process; export it before starting Arcboard");
                }
            }
        }

        private void ValidateAzure(AzureOptions azure)
        {
            ValidateGuid("azure.tenantId", azure.TenantId, "the Entra ID tenant id");
            ValidateGuid("azure.subscriptionId", azure.SubscriptionId, "the Azure subscription id");
            ValidateUrl("azure.armEndpoint", azure.ArmEndpoint, httpsOnly: true, "ARM's base URL, e.g. \"https://management.azure.com\"");
            ValidateAzureCredential(azure.Credential);

            if (azure.CaCertificate is not null)
            {
                ValidateCertificate("azure.caCertificate", azure.CaCertificate);
            }

            ValidateTemplate("azure.resourceGroup", azure.ResourceGroup, NameTemplate.ResourceGroupTokens, perInstance: false);
            ValidateTemplate("azure.machineName", azure.MachineName, NameTemplate.MachineNameTokens, perInstance: true);

            foreach (var (region, location) in azure.RegionMap)
            {
                var path = $"azure.regionMap{KeyPath(region)}";
                if (!AwsRegionPattern().IsMatch(region))
                {
                    Add(path, $"'{region}' is not an AWS region name; keys are AWS region codes such as \"us-east-1\"");
                }

                if (!LocationPattern().IsMatch(location))
                {
                    Add(path, $"'{location}' is not an Azure location name; use the lower-case name without spaces, e.g. \"westeurope\"");
                }
            }

            if (azure.DefaultLocation is not null && !LocationPattern().IsMatch(azure.DefaultLocation))
            {
                Add("azure.defaultLocation", $"'{azure.DefaultLocation}' is not an Azure location name; use the lower-case name without spaces, e.g. \"eastus\", or remove it");
            }

            if (azure.Tags.Count > MaxTags)
            {
                Add("azure.tags", $"has {azure.Tags.Count} tags; ARM allows at most {MaxTags} on a resource");
            }

            foreach (var (name, value) in azure.Tags)
            {
                var path = $"azure.tags{KeyPath(name)}";
                var problem = TagNameProblem(name);
                if (problem is not null)
                {
                    Add(path, problem);
                }

                if (value.Length > 256)
                {
                    Add(path, $"the value has {value.Length} characters; ARM allows at most 256");
                }
            }

            if (!s_clouds.Contains(azure.Cloud, StringComparer.Ordinal))
            {
                Add("azure.cloud", $"'{azure.Cloud}' is not a cloud azcmagent knows; use one of {Quote(s_clouds)}");
            }
        }

        private void ValidateAzureCredential(AzureCredentialOptions credential)
        {
            const string Path = "azure.credential";
            if (!s_azureCredentialTypes.Contains(credential.Type, StringComparer.Ordinal))
            {
                Add($"{Path}.type", $"'{credential.Type}' is not a credential type; use one of {Quote(s_azureCredentialTypes)}");
                return;
            }

            if (credential.ClientId is not null)
            {
                ValidateGuid($"{Path}.clientId", credential.ClientId, "the application (client) id");
            }

            if (credential.Type == "clientSecret")
            {
                if (credential.ClientId is null)
                {
                    Add($"{Path}.clientId", "is required when type is \"clientSecret\"; set the application (client) id, a GUID");
                }

                ValidateSecret(Path, "clientSecret", credential.ClientSecret, "clientSecretEnv", credential.ClientSecretEnv, "\"clientSecret\"", "the client secret");
            }
            else
            {
                foreach (var (name, value) in new[] { ("clientSecret", credential.ClientSecret), ("clientSecretEnv", credential.ClientSecretEnv) })
                {
                    if (value is not null)
                    {
                        Add($"{Path}.{name}", "is only used when type is \"clientSecret\"; remove it or set type \"clientSecret\"");
                    }
                }
            }

            if (credential.AuthorityHost is not null)
            {
                ValidateUrl($"{Path}.authorityHost", credential.AuthorityHost, httpsOnly: true, "the Entra ID authority, e.g. \"https://login.microsoftonline.com/\", or remove it for the public cloud");
            }
        }

        private void ValidateCertificate(string path, string file)
        {
            if (!File.Exists(file))
            {
                Add(path, $"'{file}' does not exist; set the PEM file of the certificate to trust (relative paths start at the configuration file's folder)");
                return;
            }

            try
            {
                var pem = File.ReadAllText(file);
                using var certificate = X509Certificate2.CreateFromPem(pem);
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException)
            {
                Add(path, $"'{file}' holds no PEM certificate (-----BEGIN CERTIFICATE-----); set a PEM certificate file");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Add(path, $"'{file}' cannot be read ({ex.Message}); give this user read access");
            }
        }

        private void ValidateTemplate(string path, string template, IReadOnlyList<string> tokens, bool perInstance)
        {
            var parsed = NameTemplate.Parse(template, tokens, out var error);
            if (parsed is null)
            {
                Add(path, $"'{template}' is not a valid template: {error}");
                return;
            }

            if (perInstance && !parsed.Tokens.Any(t => t.Name is "instanceId" or "tag"))
            {
                Add(path, $"'{template}' gives every instance the same name; include {{instanceId}} (or a {{tag:KEY}} unique per instance)");
                return;
            }

            var sampleTags = parsed.Tokens.Where(t => t.Name == "tag").ToDictionary(t => t.Argument!, _ => SampleTagValue, StringComparer.Ordinal);
            var options = new AzureOptions { TenantId = "", SubscriptionId = "", ResourceGroup = template, MachineName = template };
            var expansion = perInstance
                ? NameTemplate.ExpandMachineName(options, SampleInstanceId, SampleAccountId, SampleRegion, sampleTags)
                : NameTemplate.ExpandResourceGroup(options, SampleAccountId, SampleRegion, SampleLocation);
            if (!expansion.Succeeded)
            {
                var rule = perInstance ? NameTemplate.MachineNameRule : NameTemplate.ResourceGroupRule;
                var sample = new System.Text.StringBuilder(template)
                    .Replace("{accountId}", SampleAccountId).Replace("{region}", SampleRegion)
                    .Replace("{location}", SampleLocation).Replace("{instanceId}", SampleInstanceId).ToString();
                Add(path, $"'{template}' makes names such as '{NameTemplate.Show(sample)}', which ARM refuses; {rule}");
            }
        }

        private void ValidateOnboarding(OnboardingOptions o)
        {
            Range("onboarding.commandTimeoutSeconds", o.CommandTimeoutSeconds, MinCommandTimeoutSeconds, MaxCommandTimeoutSeconds, "seconds a Run Command script may run");
            Range("onboarding.pollIntervalSeconds", o.PollIntervalSeconds, MinPollIntervalSeconds, MaxPollIntervalSeconds, "seconds between reads of command results");
            Range("onboarding.maxParallelScopes", o.MaxParallelScopes, 1, MaxParallelScopesLimit, "account-regions worked on at once");
            Range("onboarding.maxParallelArmCalls", o.MaxParallelArmCalls, 1, MaxParallelArmCallsLimit, "ARM calls in flight at once");
            Range("onboarding.quotaScale", o.QuotaScale, MinQuotaScale, MaxQuotaScale, "times the assumed cloud rates (1 for the real clouds)");
        }

        private void Range(string path, double value, double min, double max, string what)
        {
            if (double.IsNaN(value) || value < min || value > max)
            {
                Add(path, $"{value.ToString(CultureInfo.InvariantCulture)} is out of range; set the {what} between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}");
            }
        }

        private void ValidateGuid(string path, string value, string what)
        {
            if (!Guid.TryParseExact(value, "D", out _))
            {
                Add(path, $"'{value}' is not a GUID; set {what}, formatted like 00000000-0000-0000-0000-000000000000");
            }
        }

        private void ValidateUrl(string path, string value, bool httpsOnly, string what)
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                Add(path, $"'{value}' is not an absolute {(httpsOnly ? "https" : "http or https")} URL; set {what}");
            }
            else if (httpsOnly && uri.Scheme != Uri.UriSchemeHttps)
            {
                // Tokens travel to this address: never in clear text, not even on loopback (the sandbox serves https).
                Add(path, $"'{value}' must use https; set {what}");
            }
            else if (uri.UserInfo.Length > 0)
            {
                Add(path, "must not carry a user name or password in the URL; use the credential settings instead");
            }
        }

        private static string? TagNameProblem(string name)
        {
            if (name.Length == 0)
            {
                return "a tag name must not be empty";
            }

            if (name.Length > 512)
            {
                return $"the tag name has {name.Length} characters; ARM allows at most 512";
            }

            if (name.IndexOfAny(['<', '>', '%', '&', '\\', '?', '/']) >= 0)
            {
                return "the tag name contains one of < > % & \\ ? /, which ARM refuses in tag names";
            }

            foreach (var reserved in new[] { "microsoft", "azure", "windows" })
            {
                if (name.StartsWith(reserved, StringComparison.OrdinalIgnoreCase))
                {
                    return $"tag names starting with '{reserved}' are reserved by Azure; choose another name";
                }
            }

            return null;
        }

        private static string KeyPath(string key) => JsonSection.Join("", key) is var joined && joined.StartsWith('[') ? joined : $".{joined}";

        private static string Quote(IEnumerable<string> values) => string.Join(", ", values.Select(v => $"\"{v}\""));
    }

    // ASCII digits only: [0-9], not \d, which also matches other scripts' digits.
    [GeneratedRegex(@"^[0-9]{12}\z", RegexOptions.CultureInvariant)]
    private static partial Regex AccountIdPattern();

    [GeneratedRegex(@"^[a-z]{2}(-gov)?-[a-z]+-[0-9]\z", RegexOptions.CultureInvariant)]
    internal static partial Regex AwsRegionPattern();

    [GeneratedRegex(@"^arn:aws[a-z-]*:iam::(?<account>[0-9]{12}):role/[A-Za-z0-9_+=,.@/-]{1,64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex RoleArnPattern();

    [GeneratedRegex(@"^[a-z0-9]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex LocationPattern();
}
