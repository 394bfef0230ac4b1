namespace Arcboard.Core.Configuration;

/// <summary>One thing wrong with a configuration: where (a key path such as <c>aws.accounts[1].regions[0]</c>) and what to set.</summary>
public sealed record ConfigProblem(string Path, string Message)
{
    public override string ToString() => Path.Length == 0 ? Message : $"{Path}: {Message}";
}

/// <summary>
/// The configuration cannot be used. Lists every problem found, not just the first, so one edit can fix them all.
/// Never carries a secret's value.
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string source, IReadOnlyList<ConfigProblem> problems)
        : base(Format(source, problems))
    {
        ConfigSource = source;
        Problems = problems;
    }

    /// <summary>The file (or display name) the configuration came from.</summary>
    public string ConfigSource { get; }

    public IReadOnlyList<ConfigProblem> Problems { get; }

    private static string Format(string source, IReadOnlyList<ConfigProblem> problems) =>
        problems.Count == 1
            ? $"Configuration '{source}': {problems[0]}"
            : $"Configuration '{source}' has {problems.Count} problems:{string.Concat(problems.Select(p => $"{Environment.NewLine}  - {p}"))}";
}
