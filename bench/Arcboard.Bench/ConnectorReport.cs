using System.Text.Json;
using System.Text.RegularExpressions;

namespace Arcboard.Bench;

/// <summary>What the harness takes from <c>arcboard sync --output json</c> (README, "The JSON report of sync").</summary>
public sealed record ConnectorReport(IReadOnlyDictionary<string, long> Outcomes, int FailedForThrottling, IReadOnlyList<string> SampleFailures)
{
    /// <summary>How a throttling error reads in a reason, whichever service gave it.</summary>
    private static readonly Regex Throttling = new(@"throttl|rate exceeded|too many requests|RequestLimitExceeded|\b429\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>Parses the report; throws <see cref="FormatException"/> with a one-line reason when it is not one.</summary>
    public static ConnectorReport Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException error)
        {
            throw new FormatException($"the connector's stdout is not a JSON report: {error.Message}", error);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("summary", out var summary) || summary.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("the connector's report has no \"summary\" object.");
            }

            var outcomes = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var field in summary.EnumerateObject())
            {
                if (field.Value.ValueKind == JsonValueKind.Number && field.Value.TryGetInt64(out var count))
                {
                    outcomes[field.Name] = count;
                }
            }

            var failedForThrottling = 0;
            var samples = new List<string>();
            if (root.TryGetProperty("instances", out var instances) && instances.ValueKind == JsonValueKind.Array)
            {
                foreach (var instance in instances.EnumerateArray())
                {
                    if (Text(instance, "outcome") != "Failed")
                    {
                        continue;
                    }

                    var reason = Text(instance, "reason") ?? "";
                    if (Throttling.IsMatch(reason))
                    {
                        failedForThrottling++;
                    }

                    // A few reasons are enough to tell what went wrong; thousands would drown the result.
                    if (samples.Count < 5)
                    {
                        samples.Add($"{Text(instance, "instanceId")} at {Text(instance, "failedStep")}: {reason}");
                    }
                }
            }

            return new ConnectorReport(outcomes, failedForThrottling, samples);
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
