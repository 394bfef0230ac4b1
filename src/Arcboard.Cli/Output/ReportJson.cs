using System.Text.Encodings.Web;
using System.Text.Json;
using Arcboard.Core.Onboarding;
using Arcboard.Core.State;

namespace Arcboard.Cli.Output;

/// <summary>The machine-readable forms of reports; their field names are a contract documented in the README.</summary>
public static class ReportJson
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        // Reasons quote instance output; keep them readable while staying valid JSON.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Sync(SyncReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteStartObject("summary");
            json.WriteNumber("total", report.Instances.Count);
            json.WriteNumber("onboarded", report.Count(Outcome.Onboarded));
            json.WriteNumber("alreadyConnected", report.Count(Outcome.AlreadyConnected));
            json.WriteNumber("skipped", report.Count(Outcome.Skipped));
            json.WriteNumber("failed", report.Count(Outcome.Failed));
            json.WriteNumber("scopeErrors", report.Errors.Count);
            json.WriteEndObject();

            json.WriteStartArray("instances");
            foreach (var instance in report.Instances)
            {
                json.WriteStartObject();
                json.WriteString("accountId", instance.AccountId);
                json.WriteString("region", instance.Region);
                json.WriteString("instanceId", instance.InstanceId);
                json.WriteString("platform", instance.Platform.ToString());
                json.WriteString("outcome", instance.Outcome.ToString());
                json.WriteString("reason", instance.Reason);
                WriteNullable(json, "azureResourceId", instance.AzureResourceId);
                WriteNullable(json, "failedStep", instance.FailedStep);
                json.WriteEndObject();
            }

            json.WriteEndArray();

            json.WriteStartArray("errors");
            foreach (var error in report.Errors)
            {
                json.WriteStartObject();
                json.WriteString("accountId", error.AccountId);
                json.WriteString("region", error.Region);
                json.WriteString("reason", error.Reason);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string Status(IReadOnlyList<InstanceRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteStartObject("summary");
            json.WriteNumber("total", records.Count);
            json.WriteNumber("connected", records.Count(r => r.Stage == OnboardingStage.Connected));
            foreach (var outcome in Enum.GetValues<Outcome>())
            {
                json.WriteNumber(JsonNamingPolicy.CamelCase.ConvertName(outcome.ToString()), records.Count(r => r.Outcome == outcome));
            }

            json.WriteEndObject();
            json.WriteStartArray("instances");
            foreach (var record in records)
            {
                json.WriteStartObject();
                json.WriteString("accountId", record.Key.AccountId);
                json.WriteString("region", record.Key.Region);
                json.WriteString("instanceId", record.Key.InstanceId);
                json.WriteString("platform", record.Platform.ToString());
                json.WriteString("stage", record.Stage.ToString());
                WriteNullable(json, "outcome", record.Outcome?.ToString());
                WriteNullable(json, "reason", record.Reason);
                WriteNullable(json, "failedStep", record.FailedStep);
                WriteNullable(json, "azureResourceId", record.ResourceId);
                WriteNullable(json, "vmId", record.VmId?.ToString("D"));
                json.WriteBoolean("createdByArcboard", record.CreatedByArcboard);
                json.WriteString("updatedAt", record.UpdatedAt.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
