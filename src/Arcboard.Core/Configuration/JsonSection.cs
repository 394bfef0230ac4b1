using System.Text.Json;
using System.Text.RegularExpressions;

namespace Arcboard.Core.Configuration;

/// <summary>
/// Reads one JSON object of the configuration, recording a problem for every wrong type, missing key and unknown key
/// instead of stopping at the first. Values of secret keys are never repeated in a problem.
/// </summary>
internal sealed partial class JsonSection
{
    private readonly JsonElement _element;
    private readonly List<ConfigProblem> _problems;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    private JsonSection(JsonElement element, string path, List<ConfigProblem> problems)
    {
        _element = element;
        Path = path;
        _problems = problems;
        ReportDuplicateKeys();
    }

    public string Path { get; }

    /// <summary>Null (after recording a problem) when <paramref name="element"/> is not an object.</summary>
    public static JsonSection? From(JsonElement element, string path, List<ConfigProblem> problems)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            problems.Add(new(path, $"must be a JSON object {{ ... }}, not {Describe(element)}"));
            return null;
        }

        return new JsonSection(element, path, problems);
    }

    public string Child(string name) => Join(Path, name);

    public static string Join(string path, string name) =>
        SimpleKey().IsMatch(name) ? (path.Length == 0 ? name : $"{path}.{name}") : $"{path}[{JsonSerializer.Serialize(name)}]";

    public void Problem(string name, string message) => _problems.Add(new(Child(name), message));

    /// <summary>The value of a key, or null when absent or JSON null.</summary>
    public JsonElement? Get(string name)
    {
        _known.Add(name);
        return _element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
    }

    public bool Has(string name) => Get(name) is not null;

    public string? String(string name, bool secret = false)
    {
        if (Get(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }

        // Quoting matters for account ids ("012345678901" loses its leading zero as a number), so show how.
        var hint = !secret && value.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False ? $"; write \"{value.GetRawText()}\"" : "";
        Problem(name, $"must be a string in double quotes, not {Describe(value)}{hint}");
        return null;
    }

    public string RequiredString(string name, string whatToSet)
    {
        var value = String(name);
        if (value is null && !ProblemRecorded(Child(name)))
        {
            Problem(name, $"is required; set {whatToSet}");
        }

        return value ?? "";
    }

    public int? Int(string name)
    {
        if (Get(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var result))
        {
            return result;
        }

        Problem(name, $"must be a whole number, not {Describe(value)}");
        return null;
    }

    public bool? Bool(string name)
    {
        if (Get(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.GetBoolean();
        }

        Problem(name, $"must be true or false, not {Describe(value)}");
        return null;
    }

    public double? Number(string name)
    {
        if (Get(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var result) && double.IsFinite(result))
        {
            return result;
        }

        Problem(name, $"must be a number, not {Describe(value)}");
        return null;
    }

    public JsonSection? Section(string name) =>
        Get(name) is { } value ? From(value, Child(name), _problems) : null;

    public IReadOnlyList<(JsonElement Element, string Path)>? Array(string name)
    {
        if (Get(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            Problem(name, $"must be a JSON array [ ... ], not {Describe(value)}");
            return null;
        }

        return value.EnumerateArray().Select((e, i) => (e, $"{Child(name)}[{i}]")).ToArray();
    }

    public IReadOnlyList<string>? StringArray(string name)
    {
        if (Array(name) is not { } items)
        {
            return null;
        }

        var result = new List<string>();
        foreach (var (element, path) in items)
        {
            if (element.ValueKind == JsonValueKind.String)
            {
                result.Add(element.GetString()!);
            }
            else
            {
                _problems.Add(new(path, $"must be a string in double quotes, not {Describe(element)}"));
            }
        }

        return result;
    }

    public IReadOnlyDictionary<string, string>? StringMap(string name)
    {
        if (Get(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            Problem(name, $"must be a JSON object of names to strings {{ \"name\": \"value\" }}, not {Describe(value)}");
            return null;
        }

        var section = new JsonSection(value, Child(name), _problems);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.String)
            {
                result[property.Name] = property.Value.GetString()!;
            }
            else
            {
                section.Problem(property.Name, $"must be a string in double quotes, not {Describe(property.Value)}");
            }
        }

        return result;
    }

    /// <summary>Reports every key that no reader asked for: a typo must not be silently ignored.</summary>
    public void ReportUnknownKeys(params string[] ignored)
    {
        foreach (var property in _element.EnumerateObject())
        {
            if (_known.Contains(property.Name) || ignored.Contains(property.Name, StringComparer.Ordinal))
            {
                continue;
            }

            var suggestion = Suggest(property.Name);
            _problems.Add(new(Child(property.Name),
                $"unknown key{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")} Keys allowed in {(Path.Length == 0 ? "the top level" : $"'{Path}'")}: {string.Join(", ", _known)}"));
        }
    }

    private bool ProblemRecorded(string path) => _problems.Any(p => p.Path == path);

    private void ReportDuplicateKeys()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in _element.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                _problems.Add(new(Child(property.Name), "appears more than once in the same object; keep one"));
            }
        }
    }

    private string? Suggest(string unknown)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var known in _known)
        {
            var distance = string.Equals(known, unknown, StringComparison.OrdinalIgnoreCase) ? 0 : Distance(known.ToLowerInvariant(), unknown.ToLowerInvariant());
            if (distance < bestDistance)
            {
                (best, bestDistance) = (known, distance);
            }
        }

        return bestDistance <= Math.Max(2, unknown.Length / 4) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    public static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => element.ValueKind.ToString(),
    };

    [GeneratedRegex(@"^[A-Za-z_$][A-Za-z0-9_$-]*\z")]
    private static partial Regex SimpleKey();
}
