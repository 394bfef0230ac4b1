using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Arcboard.Sandbox.Fleet;

/// <summary>
/// Reads a fleet file (docs/contracts.md section 4), JSON or YAML. Every problem is reported together, each naming
/// the file, the path inside it (<c>accounts[0].regions[1].instances[3].platform</c>) and what is allowed.
/// </summary>
public static partial class FleetFile
{
    public static FleetDefinition Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SandboxConfigurationException($"{path}: cannot read the fleet file: {ex.Message}");
        }

        return Parse(text, path);
    }

    /// <summary>Parses fleet text; <paramref name="fileName"/> is only used in messages and to pick JSON (".json") or YAML.</summary>
    public static FleetDefinition Parse(string text, string fileName)
    {
        var root = fileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? ReadJson(text, fileName) : ReadYaml(text, fileName);
        var errors = new List<string>();
        var definition = Build(root, errors);
        if (errors.Count > 0 || definition is null)
        {
            var lines = errors.Count == 1 ? errors[0] : "\n  " + string.Join("\n  ", errors);
            throw new SandboxConfigurationException($"{fileName}: invalid fleet file: {lines}");
        }

        return definition;
    }

    private static object? ReadJson(string text, string fileName)
    {
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            return FromJson(document.RootElement);
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" at line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1}" : "";
            throw new SandboxConfigurationException($"{fileName}: not valid JSON{where}.");
        }
    }

    private static object? FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().Select(p => new KeyValuePair<string, object?>(p.Name, FromJson(p.Value))).ToList(),
        JsonValueKind.Array => element.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        _ => element.GetRawText(),
    };

    private static object? ReadYaml(string text, string fileName)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream.Documents.Count == 0 ? null : FromYaml(stream.Documents[0].RootNode);
        }
        catch (YamlException ex)
        {
            var reason = ex.InnerException?.Message ?? ex.Message;
            // YamlDotNet prefixes its message with the position, which we print our own way.
            var cut = reason.IndexOf("): ", StringComparison.Ordinal);
            if (reason.StartsWith("(Line", StringComparison.Ordinal) && cut > 0)
            {
                reason = reason[(cut + 3)..];
            }

            throw new SandboxConfigurationException($"{fileName}: not valid YAML at line {ex.Start.Line}, column {ex.Start.Column}: {reason}");
        }
    }

    private static object? FromYaml(YamlNode node) => node switch
    {
        YamlMappingNode map => map.Children.Select(c => new KeyValuePair<string, object?>(((YamlScalarNode)c.Key).Value ?? "", FromYaml(c.Value))).ToList(),
        YamlSequenceNode seq => seq.Children.Select(FromYaml).ToList(),
        YamlScalarNode scalar when scalar.Style == ScalarStyle.Plain && scalar.Value is "" or "~" or "null" => null,
        YamlScalarNode scalar => scalar.Value,
        _ => null,
    };

    private static FleetDefinition? Build(object? root, List<string> errors)
    {
        if (root is not List<KeyValuePair<string, object?>> top)
        {
            errors.Add("the top level must be a mapping with 'accounts' (and optionally 'subscriptionId').");
            return null;
        }

        CheckKeys(top, "", ["subscriptionId", "accounts"], errors);
        var subscriptionId = Scalar(top, "subscriptionId", "subscriptionId", errors);
        if (subscriptionId is not null && !Guid.TryParse(subscriptionId, out _))
        {
            errors.Add($"subscriptionId: '{subscriptionId}' is not a GUID.");
        }

        var accounts = new List<AccountDefinition>();
        var instances = new List<InstanceDefinition>();
        var seenIds = new Dictionary<string, string>(StringComparer.Ordinal);
        var seenAccounts = new Dictionary<string, string>(StringComparer.Ordinal);
        var accountNodes = Sequence(top, "accounts", "accounts", errors, required: true);
        for (var a = 0; a < accountNodes.Count; a++)
        {
            var accountPath = $"accounts[{a}]";
            if (accountNodes[a] is not List<KeyValuePair<string, object?>> account)
            {
                errors.Add($"{accountPath}: must be a mapping with 'id' and 'regions'.");
                continue;
            }

            CheckKeys(account, accountPath, ["id", "regions"], errors);
            var accountId = Scalar(account, "id", $"{accountPath}.id", errors);
            if (accountId is null)
            {
                errors.Add($"{accountPath}.id: missing; an AWS account id is 12 digits.");
                accountId = "";
            }
            else if (!AccountIdPattern().IsMatch(accountId))
            {
                errors.Add($"{accountPath}.id: '{accountId}' is not an AWS account id (12 digits, quote it in YAML).");
            }
            else if (!seenAccounts.TryAdd(accountId, accountPath))
            {
                errors.Add($"{accountPath}.id: '{accountId}' is already used by {seenAccounts[accountId]}.");
            }

            var regions = new List<string>();
            var regionNodes = Sequence(account, "regions", $"{accountPath}.regions", errors, required: true);
            for (var r = 0; r < regionNodes.Count; r++)
            {
                var regionPath = $"{accountPath}.regions[{r}]";
                if (regionNodes[r] is not List<KeyValuePair<string, object?>> region)
                {
                    errors.Add($"{regionPath}: must be a mapping with 'name' and 'instances'.");
                    continue;
                }

                CheckKeys(region, regionPath, ["name", "instances"], errors);
                var regionName = Scalar(region, "name", $"{regionPath}.name", errors);
                if (regionName is null || !RegionPattern().IsMatch(regionName))
                {
                    errors.Add($"{regionPath}.name: {(regionName is null ? "missing" : $"'{regionName}' is not an AWS region name")}; expected a name like us-east-1.");
                    regionName ??= "";
                }
                else if (regions.Contains(regionName))
                {
                    errors.Add($"{regionPath}.name: '{regionName}' appears twice in {accountPath}.");
                }

                regions.Add(regionName);
                var instanceNodes = Sequence(region, "instances", $"{regionPath}.instances", errors, required: false);
                for (var i = 0; i < instanceNodes.Count; i++)
                {
                    var instance = BuildInstance(instanceNodes[i], $"{regionPath}.instances[{i}]", accountId, regionName, seenIds, errors);
                    if (instance is not null)
                    {
                        instances.Add(instance);
                    }
                }
            }

            accounts.Add(new AccountDefinition(accountId, regions));
        }

        if (accountNodes.Count == 0 && errors.Count == 0)
        {
            errors.Add("accounts: at least one account is needed.");
        }

        return new FleetDefinition(subscriptionId, accounts, instances);
    }

    private static InstanceDefinition? BuildInstance(object? node, string path, string accountId, string region, Dictionary<string, string> seenIds, List<string> errors)
    {
        if (node is not List<KeyValuePair<string, object?>> map)
        {
            errors.Add($"{path}: must be a mapping with at least 'id' and 'platform'.");
            return null;
        }

        var before = errors.Count;
        CheckKeys(map, path, ["id", "platform", "state", "ssm", "agent", "tags"], errors);
        var id = Scalar(map, "id", $"{path}.id", errors);
        if (id is null)
        {
            errors.Add($"{path}.id: missing; an instance id is i- followed by 8 or 17 lower-case hex digits.");
        }
        else if (!InstanceIdPattern().IsMatch(id))
        {
            errors.Add($"{path}.id: '{id}' is not an instance id; use i- followed by 8 or 17 lower-case hex digits.");
        }
        else if (!seenIds.TryAdd(id, path))
        {
            errors.Add($"{path}.id: '{id}' is already used by {seenIds[id]}; instance ids must be unique in the fleet.");
        }

        var platform = Choice(map, "platform", path, null, new Dictionary<string, InstancePlatform> { ["linux"] = InstancePlatform.Linux, ["windows"] = InstancePlatform.Windows }, errors);
        var state = Choice(map, "state", path, InstanceState.Running, new Dictionary<string, InstanceState>
        {
            ["pending"] = InstanceState.Pending,
            ["running"] = InstanceState.Running,
            ["stopping"] = InstanceState.Stopping,
            ["stopped"] = InstanceState.Stopped,
            ["terminated"] = InstanceState.Terminated,
        }, errors);
        var ssm = Choice(map, "ssm", path, SsmStatus.Online, new Dictionary<string, SsmStatus> { ["online"] = SsmStatus.Online, ["offline"] = SsmStatus.Offline, ["none"] = SsmStatus.None }, errors);
        var agent = Choice(map, "agent", path, AgentStatus.Installed, new Dictionary<string, AgentStatus> { ["none"] = AgentStatus.None, ["installed"] = AgentStatus.Installed, ["connected"] = AgentStatus.Connected }, errors);

        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in map)
        {
            if (key != "tags" || value is null)
            {
                continue;
            }

            if (value is not List<KeyValuePair<string, object?>> tagMap)
            {
                errors.Add($"{path}.tags: must be a mapping of tag key to value, like {{ Name: web-1 }}.");
                continue;
            }

            foreach (var (tagKey, tagValue) in tagMap)
            {
                if (tagValue is not null and not string)
                {
                    errors.Add($"{path}.tags.{tagKey}: must be a plain value.");
                }
                else if (tagKey.Length is 0 or > 128)
                {
                    errors.Add($"{path}.tags: a tag key must have 1 to 128 characters.");
                }
                else
                {
                    tags[tagKey] = (string?)tagValue ?? "";
                }
            }
        }

        if (platform is null)
        {
            if (!map.Any(p => p.Key == "platform"))
            {
                errors.Add($"{path}.platform: missing; allowed: linux, windows.");
            }

            return null;
        }

        return errors.Count > before || id is null ? null : new InstanceDefinition(accountId, region, id, platform.Value, state!.Value, ssm!.Value, agent!.Value, tags);
    }

    private static T? Choice<T>(List<KeyValuePair<string, object?>> map, string key, string path, T? fallback, Dictionary<string, T> allowed, List<string> errors)
        where T : struct
    {
        var value = Scalar(map, key, $"{path}.{key}", errors);
        if (value is null)
        {
            return fallback;
        }

        if (allowed.TryGetValue(value, out var parsed))
        {
            return parsed;
        }

        errors.Add($"{path}.{key}: '{value}' is not allowed; allowed: {string.Join(", ", allowed.Keys)}.");
        return null;
    }

    private static string? Scalar(List<KeyValuePair<string, object?>> map, string key, string path, List<string> errors)
    {
        foreach (var (k, v) in map)
        {
            if (k == key)
            {
                if (v is string s)
                {
                    return s;
                }

                if (v is not null)
                {
                    errors.Add($"{path}: must be a single value, not a list or mapping.");
                }

                return null;
            }
        }

        return null;
    }

    private static List<object?> Sequence(List<KeyValuePair<string, object?>> map, string key, string path, List<string> errors, bool required)
    {
        foreach (var (k, v) in map)
        {
            if (k == key)
            {
                if (v is List<object?> list)
                {
                    return list;
                }

                if (v is not null)
                {
                    errors.Add($"{path}: must be a list.");
                }

                return [];
            }
        }

        if (required)
        {
            errors.Add($"{path}: missing; it must be a list.");
        }

        return [];
    }

    private static void CheckKeys(List<KeyValuePair<string, object?>> map, string path, string[] allowed, List<string> errors)
    {
        foreach (var (key, _) in map)
        {
            if (!allowed.Contains(key, StringComparer.Ordinal))
            {
                var where = path.Length == 0 ? key : $"{path}.{key}";
                errors.Add($"{where}: unknown key; allowed here: {string.Join(", ", allowed)}.");
            }
        }
    }

    [GeneratedRegex("^[0-9]{12}$")]
    private static partial Regex AccountIdPattern();

    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]+$")]
    private static partial Regex RegionPattern();

    [GeneratedRegex("^i-([0-9a-f]{8}|[0-9a-f]{17})$")]
    public static partial Regex InstanceIdPattern();
}
