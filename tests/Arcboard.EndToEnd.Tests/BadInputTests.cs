using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Arcboard.EndToEnd.Tests;

/// <summary>
/// What an operator sees when the input is wrong: exit code 1, one readable message on stderr that names the problem,
/// nothing on stdout (scripts parse it), and never a stack trace or an exception type.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed partial class BadInputTests : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("arcboard-badinput-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task A_missing_config_file_is_named()
    {
        var missing = Path.Combine(_folder.FullName, "nowhere.json");

        var run = await RunAsync("sync", "--config", missing);

        ShouldBeRejected(run, missing, "does not exist");
    }

    [Fact]
    public async Task A_config_that_is_not_JSON_names_the_line()
    {
        var path = Write("broken.json", "{\n  \"store\": {\n    oops\n  }\n}\n");

        var run = await RunAsync("sync", "--config", path);

        ShouldBeRejected(run, path, "not valid JSON", "line 3");
    }

    [Fact]
    public async Task A_misspelt_key_is_named_with_a_suggestion()
    {
        var config = ValidConfig();
        var azure = config["azure"]!.AsObject();
        azure["subscriptonId"] = azure["subscriptionId"]!.DeepClone();
        azure.Remove("subscriptionId");

        var run = await RunAsync("sync", "--config", Write("typo.json", config));

        ShouldBeRejected(run, "subscriptonId", "unknown key", "did you mean 'subscriptionId'");
    }

    [Fact]
    public async Task A_bad_account_id_and_a_bad_region_are_listed_together()
    {
        var config = ValidConfig();
        var account = config["aws"]!["accounts"]![0]!.AsObject();
        account["accountId"] = "12345";
        account["regions"] = new JsonArray("us-east-1", "mars-north-9");

        var run = await RunAsync("sync", "--config", Write("account.json", config));

        ShouldBeRejected(run, "aws.accounts[0].accountId", "'12345'", "aws.accounts[0].regions[1]", "'mars-north-9'");
    }

    [Fact]
    public async Task An_unknown_option_is_named()
    {
        var run = await RunAsync("sync", "--config", Write("ok.json", ValidConfig()), "--bogus");

        ShouldBeRejected(run, "--bogus");
    }

    [Fact]
    public async Task A_missing_config_option_is_named()
    {
        var run = await RunAsync("sync");

        ShouldBeRejected(run, "--config", "required");
    }

    [Fact]
    public async Task An_unknown_output_format_is_named()
    {
        var run = await RunAsync("status", "--config", Write("ok.json", ValidConfig()), "--output", "xml");

        ShouldBeRejected(run, "xml", "--output");
        // The accepted values are for people; the CLR type they bind to is not.
        run.Error.ShouldNotContain("Arcboard.Cli");
    }

    [Theory]
    [InlineData("--time-scale", "abc", "must be a number greater than 0")]
    [InlineData("--seed", "x", "must be a whole number")]
    [InlineData("--instance-mode", "fast", "must be one of process, modelled")]
    public async Task A_bad_sandbox_value_is_named_in_one_line_without_a_dotnet_type(string option, string value, string expected)
    {
        var run = await RunAsync("sandbox", "serve", option, value);

        ShouldBeRejected(run, value, option);
        run.Error.ShouldContain(expected);
        run.Error.ShouldNotContain("System.");
        run.Error.ShouldNotContain("Arcboard.");
    }

    [Fact]
    public async Task A_bad_log_level_is_named_with_the_levels_allowed()
    {
        var run = await RunAsync("sync", "--config", Write("ok.json", ValidConfig()), "--log-level", "loud");

        ShouldBeRejected(run, "loud", "--log-level");
        run.Error.ShouldContain("trace, debug, information, warning, error, none");
        run.Error.ShouldNotContain("Microsoft.Extensions");
    }

    [Theory]
    [InlineData("sync")]
    [InlineData("status")]
    public async Task A_store_path_that_is_a_folder_is_refused_before_anything_runs(string command)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_folder.FullName, "store-folder")).FullName;
        var config = ValidConfig();
        config["store"] = new JsonObject { ["sqlite"] = folder };

        var run = await RunAsync(command, "--config", Write("store.json", config));

        ShouldBeRejected(run, "store.sqlite", folder, "is a folder");
    }

    [Theory]
    [InlineData("platform", "platform: beos", "'beos'")]
    [InlineData("duplicate", "platform: linux", "already used")]
    [InlineData("yaml", null, "not valid YAML")]
    public async Task Serve_with_a_bad_fleet_file_exits_with_the_fleet_error_instead_of_starting(string kind, string? platform, string expected)
    {
        var fleet = Path.Combine(_folder.FullName, $"{kind}.yaml");
        if (platform is null)
        {
            File.WriteAllText(fleet, "accounts: [\n  - { id: : :\n\t{{{\n");
        }
        else
        {
            var second = kind == "duplicate" ? "i-00000000000000001" : "i-00000000000000002";
            File.WriteAllText(fleet, $$"""
                accounts:
                  - id: "111111111111"
                    regions:
                      - name: us-east-1
                        instances:
                          - { id: i-00000000000000001, {{platform}}, state: running, ssm: online, agent: installed }
                          - { id: {{second}}, platform: linux, state: running, ssm: online, agent: installed }

                """);
        }

        var run = await RunAsync("sandbox", "serve", "--fleet", fleet, "--data-dir", Path.Combine(_folder.FullName, "sandbox"));

        ShouldBeRejected(run, fleet, expected);
        run.Error.ShouldNotContain("sandbox ready");
    }

    [Fact]
    public async Task Sync_against_an_unreachable_AWS_endpoint_reports_each_scope_and_exits_2()
    {
        var config = ValidConfig();
        config["aws"]!["endpoint"] = "http://127.0.0.1:1";

        var run = await RunAsync("sync", "--config", Write("closed.json", config), "--output", "json");

        run.ExitCode.ShouldBe(2, run.Error);
        ShouldHaveNoStackTrace(run.Error);
        ShouldHaveNoStackTrace(run.Out);
        using var report = JsonDocument.Parse(run.Out);
        report.RootElement.GetProperty("summary").GetProperty("scopeErrors").GetInt32().ShouldBe(2);
        report.RootElement.GetProperty("instances").GetArrayLength().ShouldBe(0);
        var errors = report.RootElement.GetProperty("errors").EnumerateArray().ToList();
        errors.Select(e => e.GetProperty("region").GetString()).Order(StringComparer.Ordinal).ShouldBe(["eu-west-1", "us-east-1"]);
        foreach (var error in errors)
        {
            error.GetProperty("accountId").GetString().ShouldBe("111111111111");
            var reason = error.GetProperty("reason").GetString()!;
            reason.ShouldContain("could not reach AWS");
            reason.ShouldContain(error.GetProperty("region").GetString()!);
            ShouldHaveNoStackTrace(reason);
        }
    }

    private static async Task<CliResult> RunAsync(params string[] args)
    {
        try
        {
            return await CliRun.InProcessAsync(args).WaitAsync(CommandTimeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"arcboard {string.Join(' ', args)} did not return within {CommandTimeout.TotalSeconds} s");
        }
    }

    private static void ShouldBeRejected(CliResult run, params string[] mentions)
    {
        run.ExitCode.ShouldBe(1, run.Error);
        foreach (var mention in mentions)
        {
            run.Error.ShouldContain(mention, Case.Insensitive);
        }

        ShouldHaveNoStackTrace(run.Error);
        run.Out.ShouldBeEmpty("stdout is for results; a usage problem must not print there");
    }

    private static void ShouldHaveNoStackTrace(string text)
    {
        text.Split('\n').ShouldNotContain(l => l.StartsWith("   at ", StringComparison.Ordinal), text);
        ExceptionTypeName().IsMatch(text).ShouldBeFalse(text);
    }

    // "System.IO.IOException", "Microsoft.Data.Sqlite.SqliteException", "Amazon.Runtime.AmazonServiceException" and the like.
    [GeneratedRegex(@"\b(System|Microsoft|Amazon|Azure)\.[A-Z]\w*(\.\w+)*|\b\w+Exception\b")]
    private static partial Regex ExceptionTypeName();

    private string Write(string name, JsonNode config) => Write(name, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    private string Write(string name, string text)
    {
        var path = Path.Combine(_folder.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>A configuration the loader accepts, with a fresh store in the test's folder; its clouds are never reached.</summary>
    private JsonObject ValidConfig() => new()
    {
        ["store"] = new JsonObject { ["sqlite"] = Path.Combine(_folder.FullName, "state", "arcboard.db") },
        ["aws"] = new JsonObject
        {
            ["endpoint"] = "http://127.0.0.1:1",
            ["credentials"] = new JsonObject { ["type"] = "static", ["accessKeyId"] = "AKIAEXAMPLEEXAMPLE00", ["secretAccessKey"] = "not-a-secret-only-a-placeholder-for-tests" },
            ["accounts"] = new JsonArray(new JsonObject { ["accountId"] = "111111111111", ["regions"] = new JsonArray("us-east-1", "eu-west-1") }),
        },
        ["azure"] = new JsonObject
        {
            ["tenantId"] = "00000000-0000-0000-0000-00000000a2c0",
            ["subscriptionId"] = "00000000-0000-0000-0000-000000000001",
            ["armEndpoint"] = "https://127.0.0.1:1",
            ["credential"] = new JsonObject { ["type"] = "clientSecret", ["clientId"] = "00000000-0000-0000-0000-00000000c11e", ["clientSecret"] = "placeholder", ["authorityHost"] = "https://127.0.0.1:1" },
        },
    };
}
