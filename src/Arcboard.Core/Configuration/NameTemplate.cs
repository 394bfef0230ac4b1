using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.RegularExpressions;

namespace Arcboard.Core.Configuration;

/// <summary>The result of expanding a name template for one instance: the name, or why there is none.</summary>
public sealed record NameExpansion
{
    private NameExpansion(string? name, string? error)
    {
        Name = name;
        Error = error;
    }

    public string? Name { get; }

    /// <summary>Why no valid name came out, in words for the instance's status report.</summary>
    public string? Error { get; }

    [MemberNotNullWhen(true, nameof(Name))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool Succeeded => Name is not null;

    public static NameExpansion Ok(string name) => new(name, null);

    public static NameExpansion Fail(string error) => new(null, error);
}

/// <summary>
/// Expands the resource group and machine name templates of <see cref="AzureOptions"/>. Tokens are substituted in one
/// pass (a tag value that itself looks like a token stays literal), and the result is checked against ARM's rules, so a
/// hostile or odd tag value yields a reason, never a bad request to ARM.
/// </summary>
public static partial class NameTemplate
{
    public const int MaxResourceGroupLength = 90;
    public const int MaxMachineNameLength = 54;

    internal static readonly string[] ResourceGroupTokens = ["{accountId}", "{region}", "{location}"];
    internal static readonly string[] MachineNameTokens = ["{instanceId}", "{accountId}", "{region}", "{tag:KEY}"];

    internal const string ResourceGroupRule = "use letters, digits, '-', '_', '.', '(' and ')', at most 90 characters, not ending in '.'";
    internal const string MachineNameRule = "use letters, digits, '-', '_' and '.', at most 54 characters";

    public static NameExpansion ExpandResourceGroup(AzureOptions azure, string accountId, string region, string location)
    {
        ArgumentNullException.ThrowIfNull(azure);
        return Expand(azure.ResourceGroup, ResourceGroupTokens, IsValidResourceGroupName, "resource group", ResourceGroupRule, token => token.Name switch
        {
            "accountId" => accountId,
            "region" => region,
            "location" => location,
            _ => null,
        });
    }

    public static NameExpansion ExpandMachineName(AzureOptions azure, string instanceId, string accountId, string region, IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(azure);
        ArgumentNullException.ThrowIfNull(tags);
        return Expand(azure.MachineName, MachineNameTokens, IsValidMachineName, "machine name", MachineNameRule, token => token.Name switch
        {
            "instanceId" => instanceId,
            "accountId" => accountId,
            "region" => region,
            "tag" => tags.TryGetValue(token.Argument!, out var value) ? value : null,
            _ => null,
        });
    }

    public static bool IsValidResourceGroupName(string name) => ResourceGroupPattern().IsMatch(name) && !name.EndsWith('.');

    public static bool IsValidMachineName(string name) => MachineNamePattern().IsMatch(name);

    internal readonly record struct Token(string Name, string? Argument);

    /// <summary>A template split into literal text and tokens.</summary>
    internal sealed record Parsed(IReadOnlyList<object> Parts)
    {
        public IEnumerable<Token> Tokens => Parts.OfType<Token>();
    }

    /// <summary>Splits a template; the error names the first unknown or malformed token and lists the allowed ones.</summary>
    internal static Parsed? Parse(string template, IReadOnlyList<string> allowed, out string? error)
    {
        var parts = new List<object>();
        var literal = new StringBuilder();
        var i = 0;
        while (i < template.Length)
        {
            var c = template[i];
            if (c == '}')
            {
                error = $"'}}' at position {i + 1} closes no token; tokens are {string.Join(", ", allowed)}";
                return null;
            }

            if (c != '{')
            {
                literal.Append(c);
                i++;
                continue;
            }

            var close = template.IndexOf('}', i + 1);
            if (close < 0)
            {
                error = $"'{{' at position {i + 1} is never closed; tokens are {string.Join(", ", allowed)}";
                return null;
            }

            var body = template[(i + 1)..close];
            var colon = body.IndexOf(':', StringComparison.Ordinal);
            var token = colon < 0 ? new Token(body, null) : new Token(body[..colon], body[(colon + 1)..]);
            var shape = token.Argument is null ? $"{{{token.Name}}}" : $"{{{token.Name}:KEY}}";
            if (!allowed.Contains(shape, StringComparer.Ordinal))
            {
                error = $"'{{{body}}}' is not a token here; tokens are {string.Join(", ", allowed)}";
                return null;
            }

            if (token.Argument is { Length: 0 })
            {
                error = "'{tag:}' names no tag; write {tag:Name} with the EC2 tag key";
                return null;
            }

            if (literal.Length > 0)
            {
                parts.Add(literal.ToString());
                literal.Clear();
            }

            parts.Add(token);
            i = close + 1;
        }

        if (literal.Length > 0)
        {
            parts.Add(literal.ToString());
        }

        error = null;
        return new Parsed(parts);
    }

    private static NameExpansion Expand(string template, IReadOnlyList<string> allowed, Func<string, bool> isValid, string what, string rule, Func<Token, string?> valueOf)
    {
        var parsed = Parse(template, allowed, out var error);
        if (parsed is null)
        {
            return NameExpansion.Fail($"the {what} template '{template}' is invalid: {error}");
        }

        var name = new StringBuilder();
        foreach (var part in parsed.Parts)
        {
            if (part is string text)
            {
                name.Append(text);
                continue;
            }

            var token = (Token)part;
            var value = valueOf(token);
            if (token.Name == "tag")
            {
                if (value is null)
                {
                    return NameExpansion.Fail($"the {what} template '{template}' needs tag '{Show(token.Argument!)}', which the instance does not have");
                }

                if (value.Length == 0)
                {
                    return NameExpansion.Fail($"the {what} template '{template}' needs tag '{Show(token.Argument!)}', which is empty on the instance");
                }
            }

            name.Append(value ?? "");
        }

        var result = name.ToString();
        return isValid(result)
            ? NameExpansion.Ok(result)
            : NameExpansion.Fail($"the {what} '{Show(result)}' (from template '{template}') is not valid in Azure: {rule}");
    }

    /// <summary>Makes a value from an instance safe to put in a log line or status report: printable and short.</summary>
    internal static string Show(string value)
    {
        const int Max = 80;
        var builder = new StringBuilder(Math.Min(value.Length, Max + 1));
        foreach (var c in value.Length > Max ? value[..Max] : value)
        {
            builder.Append(char.IsControl(c) || char.IsSurrogate(c) ? '?' : c);
        }

        if (value.Length > Max)
        {
            builder.Append('…');
        }

        return builder.ToString();
    }

    [GeneratedRegex(@"^[-\w\._\(\)]{1,90}\z", RegexOptions.CultureInvariant)]
    private static partial Regex ResourceGroupPattern();

    [GeneratedRegex(@"^[a-zA-Z0-9-_\.]{1,54}\z", RegexOptions.CultureInvariant)]
    private static partial Regex MachineNamePattern();
}
