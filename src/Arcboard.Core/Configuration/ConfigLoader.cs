using System.Text.Json;

namespace Arcboard.Core.Configuration;

/// <summary>
/// Loads the configuration file (JSON, camelCase keys, comments and trailing commas allowed), resolves its relative
/// paths against the file's folder and validates all of it, failing with one <see cref="ConfigException"/> that lists
/// every problem by key path. Unknown keys are errors: a typo such as <c>subscriptonId</c> must not be ignored.
/// </summary>
public static partial class ConfigLoader
{
    private static readonly JsonDocumentOptions s_jsonOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <param name="environment">Reads environment variables (to check that <c>*Env</c> keys name a variable that is set); defaults to the process environment.</param>
    public static ArcboardOptions Load(string path, Func<string, string?>? environment = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var fullPath = Path.GetFullPath(path);
        string json;
        try
        {
            json = File.ReadAllText(fullPath);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Fail(fullPath, "", "the file does not exist; create it (the README documents every key) or pass the right path with --config");
        }
        catch (UnauthorizedAccessException) when (Directory.Exists(fullPath))
        {
            throw Fail(fullPath, "", "is a folder; pass the configuration file inside it");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Fail(fullPath, "", $"cannot be read ({ex.Message}); give this user read access to it");
        }

        return Parse(json, Path.GetDirectoryName(fullPath)!, fullPath, environment);
    }

    /// <summary>Parses and validates configuration text as if read from a file in <paramref name="baseDirectory"/>.</summary>
    /// <param name="displayName">How the source is named in error messages (normally the file path).</param>
    public static ArcboardOptions Parse(string json, string baseDirectory, string displayName, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(baseDirectory);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, s_jsonOptions);
        }
        catch (JsonException ex)
        {
            var message = ex.Message;
            var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            message = cut > 0 ? message[..cut] : message;
            var where = ex.LineNumber is { } line ? $"line {line + 1}, position {(ex.BytePositionInLine ?? 0) + 1}: " : "";
            throw Fail(displayName, "", $"is not valid JSON: {where}{message}");
        }

        using (document)
        {
            var problems = new List<ConfigProblem>();
            var options = Binder.Bind(document.RootElement, Path.GetFullPath(baseDirectory), problems);
            if (options is not null)
            {
                // A key the binder already found wrong (missing, wrong type) is not reported again by validation,
                // nor is anything under it: the binder put placeholders there.
                var reported = problems.Select(p => p.Path).Where(p => p.Length > 0).ToArray();
                problems.AddRange(Validate(options, environment).Where(p => !reported.Any(r => IsSameOrUnder(p.Path, r))));
            }

            if (problems.Count > 0)
            {
                // Grouped by key so the list reads in the file's order of sections, indices compared as numbers.
                var ordered = problems.OrderBy(p => IndexPattern().Replace(p.Path, m => $"[{m.Groups[1].Value.PadLeft(9, '0')}]"), StringComparer.Ordinal).ToArray();
                throw new ConfigException(displayName, ordered);
            }

            return options!;
        }
    }

    /// <summary>Every problem with options built in code or loaded from a file; empty when they can be used.</summary>
    public static IReadOnlyList<ConfigProblem> Validate(ArcboardOptions options, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var validator = new Validator(environment ?? Environment.GetEnvironmentVariable);
        validator.Run(options);
        return validator.Problems;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\[([0-9]+)\]")]
    private static partial System.Text.RegularExpressions.Regex IndexPattern();

    private static bool IsSameOrUnder(string path, string parent) =>
        path == parent || (path.StartsWith(parent, StringComparison.Ordinal) && path[parent.Length] is '.' or '[');

    private static ConfigException Fail(string source, string path, string message) => new(source, [new ConfigProblem(path, message)]);

    /// <summary>Turns the JSON tree into options, recording wrong types, missing and unknown keys on the way.</summary>
    private static class Binder
    {
        public static ArcboardOptions? Bind(JsonElement root, string baseDirectory, List<ConfigProblem> problems)
        {
            var top = JsonSection.From(root, "", problems);
            if (top is null)
            {
                return null;
            }

            var store = BindStore(top.Section("store"), baseDirectory);
            AwsOptions aws;
            if (top.Section("aws") is { } awsSection)
            {
                aws = BindAws(awsSection, problems);
            }
            else
            {
                if (!top.Has("aws"))
                {
                    top.Problem("aws", "is required; add an \"aws\" object with at least \"accounts\"");
                }

                aws = new AwsOptions { Accounts = [] };
            }

            AzureOptions azure;
            if (top.Section("azure") is { } azureSection)
            {
                azure = BindAzure(azureSection, baseDirectory);
            }
            else
            {
                if (!top.Has("azure"))
                {
                    top.Problem("azure", "is required; add an \"azure\" object with at least \"tenantId\" and \"subscriptionId\"");
                }

                azure = new AzureOptions { TenantId = Guid.Empty.ToString(), SubscriptionId = Guid.Empty.ToString() };
            }

            var onboarding = BindOnboarding(top.Section("onboarding"));
            var cleanup = BindCleanup(top.Section("cleanup"));
            top.ReportUnknownKeys("$schema");
            return new ArcboardOptions { Store = store, Aws = aws, Azure = azure, Onboarding = onboarding, Cleanup = cleanup };
        }

        private static StoreOptions BindStore(JsonSection? section, string baseDirectory)
        {
            var defaults = new StoreOptions();
            var sqlite = section?.String("sqlite") ?? defaults.Sqlite;
            section?.ReportUnknownKeys();
            return new StoreOptions { Sqlite = Resolve(sqlite, baseDirectory) };
        }

        private static AwsOptions BindAws(JsonSection section, List<ConfigProblem> problems)
        {
            var endpoint = section.String("endpoint");
            var credentials = new AwsCredentialOptions();
            if (section.Section("credentials") is { } c)
            {
                credentials = new AwsCredentialOptions
                {
                    Type = c.String("type") ?? credentials.Type,
                    Profile = c.String("profile"),
                    AccessKeyId = c.String("accessKeyId"),
                    SecretAccessKey = c.String("secretAccessKey", secret: true),
                    SecretAccessKeyEnv = c.String("secretAccessKeyEnv"),
                };
                c.ReportUnknownKeys();
            }

            var accounts = new List<AwsAccountOptions>();
            if (section.Array("accounts") is { } items)
            {
                foreach (var (element, path) in items)
                {
                    if (JsonSection.From(element, path, problems) is not { } a)
                    {
                        accounts.Add(new AwsAccountOptions { AccountId = "", Regions = [] });
                        continue;
                    }

                    var accountId = a.RequiredString("accountId", "the 12-digit AWS account id in quotes, e.g. \"123456789012\"");
                    var regions = a.StringArray("regions");
                    if (regions is null && !a.Has("regions"))
                    {
                        a.Problem("regions", "is required; list the AWS regions to watch, e.g. [\"us-east-1\"]");
                    }

                    accounts.Add(new AwsAccountOptions { AccountId = accountId, Regions = regions ?? [], RoleArn = a.String("roleArn") });
                    a.ReportUnknownKeys();
                }
            }
            else if (!section.Has("accounts"))
            {
                section.Problem("accounts", "is required; list at least one account: [{ \"accountId\": \"123456789012\", \"regions\": [\"us-east-1\"] }]");
            }

            TagFilterOptions? tagFilter = null;
            if (section.Section("tagFilter") is { } t)
            {
                tagFilter = new TagFilterOptions { Key = t.RequiredString("key", "the EC2 tag key instances must carry"), Value = t.String("value") };
                t.ReportUnknownKeys();
            }

            section.ReportUnknownKeys();
            return new AwsOptions { Endpoint = endpoint, Credentials = credentials, Accounts = accounts, TagFilter = tagFilter };
        }

        private static AzureOptions BindAzure(JsonSection section, string baseDirectory)
        {
            var defaults = new AzureOptions { TenantId = "", SubscriptionId = "" };
            var tenantId = section.RequiredString("tenantId", "the Entra ID tenant id (a GUID)");
            var subscriptionId = section.RequiredString("subscriptionId", "the Azure subscription id (a GUID) that receives the machines");
            var armEndpoint = section.String("armEndpoint");
            var credential = new AzureCredentialOptions();
            if (section.Section("credential") is { } c)
            {
                credential = new AzureCredentialOptions
                {
                    Type = c.String("type") ?? credential.Type,
                    ClientId = c.String("clientId"),
                    ClientSecret = c.String("clientSecret", secret: true),
                    ClientSecretEnv = c.String("clientSecretEnv"),
                    AuthorityHost = c.String("authorityHost"),
                };
                c.ReportUnknownKeys();
            }

            var caCertificate = section.String("caCertificate");
            var options = new AzureOptions
            {
                TenantId = tenantId,
                SubscriptionId = subscriptionId,
                ArmEndpoint = armEndpoint ?? defaults.ArmEndpoint,
                Credential = credential,
                CaCertificate = caCertificate is null ? null : Resolve(caCertificate, baseDirectory),
                ResourceGroup = section.String("resourceGroup") ?? defaults.ResourceGroup,
                MachineName = section.String("machineName") ?? defaults.MachineName,
                RegionMap = section.StringMap("regionMap") ?? defaults.RegionMap,
                DefaultLocation = section.String("defaultLocation"),
                Tags = section.StringMap("tags") ?? defaults.Tags,
                Cloud = section.String("cloud") ?? defaults.Cloud,
            };
            section.ReportUnknownKeys();
            return options;
        }

        private static OnboardingOptions BindOnboarding(JsonSection? section)
        {
            var defaults = new OnboardingOptions();
            if (section is null)
            {
                return defaults;
            }

            var options = new OnboardingOptions
            {
                CommandTimeoutSeconds = section.Int("commandTimeoutSeconds") ?? defaults.CommandTimeoutSeconds,
                PollIntervalSeconds = section.Number("pollIntervalSeconds") ?? defaults.PollIntervalSeconds,
                MaxParallelScopes = section.Int("maxParallelScopes") ?? defaults.MaxParallelScopes,
                MaxParallelArmCalls = section.Int("maxParallelArmCalls") ?? defaults.MaxParallelArmCalls,
                QuotaScale = section.Number("quotaScale") ?? defaults.QuotaScale,
            };
            section.ReportUnknownKeys();
            return options;
        }

        private static CleanupOptions BindCleanup(JsonSection? section)
        {
            var defaults = new CleanupOptions();
            if (section is null)
            {
                return defaults;
            }

            var options = new CleanupOptions
            {
                DeleteTerminated = section.Bool("deleteTerminated") ?? defaults.DeleteTerminated,
                DeleteStopped = section.Bool("deleteStopped") ?? defaults.DeleteStopped,
            };
            section.ReportUnknownKeys();
            return options;
        }

        // Empty stays empty so validation reports it, instead of silently becoming the config folder.
        private static string Resolve(string path, string baseDirectory)
        {
            try
            {
                return path.Length == 0 ? path : Path.GetFullPath(path, baseDirectory);
            }
            catch (ArgumentException)
            {
                return path; // Characters no path may hold; validation reports the path as unusable.
            }
        }
    }
}
