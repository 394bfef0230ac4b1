using System.Text.Encodings.Web;
using System.Text.Json;
using Arcboard.Core.Cleanup;
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

    /// <summary>
    /// Writes the sync report to <paramref name="output"/> as it goes, a few hundred instances at a time: a fleet of
    /// 50,000 makes a report of tens of megabytes, which is not worth holding whole in memory next to the run's state.
    /// With <paramref name="cleanup"/>, the summary gains <c>removed</c> and <c>cleanupFailed</c> and a <c>cleanup</c>
    /// object follows; every other field is the same either way.
    /// </summary>
    public static void WriteSync(TextWriter output, SyncReport report, CleanupReport? cleanup)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(report);
        using var chunks = new ChunkedJson(output);
        var json = chunks.Writer;
        json.WriteStartObject();
        json.WriteStartObject("summary");
        json.WriteNumber("total", report.Instances.Count);
        json.WriteNumber("onboarded", report.Count(Outcome.Onboarded));
        json.WriteNumber("alreadyConnected", report.Count(Outcome.AlreadyConnected));
        json.WriteNumber("skipped", report.Count(Outcome.Skipped));
        json.WriteNumber("failed", report.Count(Outcome.Failed));
        json.WriteNumber("scopeErrors", report.Errors.Count);
        if (cleanup is not null)
        {
            json.WriteNumber("removed", cleanup.Count(RemovalAction.Deleted) + cleanup.Count(RemovalAction.AlreadyGone));
            json.WriteNumber("cleanupFailed", cleanup.Count(RemovalAction.Failed));
        }

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
            chunks.FlushWhenFull();
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
        if (cleanup is not null)
        {
            json.WritePropertyName("cleanup");
            CleanupOutput.Cleanup(cleanup).WriteTo(json);
        }

        json.WriteEndObject();
        chunks.Complete();
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

    /// <summary>A JSON writer whose output goes on to a text writer whenever a chunk has gathered, and at the end.</summary>
    private sealed class ChunkedJson : IDisposable
    {
        private const int ChunkBytes = 64 * 1024;

        private readonly TextWriter _output;
        private readonly MemoryStream _buffer = new();
        private readonly System.Text.Decoder _utf8 = new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetDecoder();
        private char[] _chars = [];

        public ChunkedJson(TextWriter output)
        {
            _output = output;
            Writer = new Utf8JsonWriter(_buffer, WriterOptions);
        }

        public Utf8JsonWriter Writer { get; }

        public void FlushWhenFull()
        {
            if (Writer.BytesPending + _buffer.Length >= ChunkBytes)
            {
                Flush();
            }
        }

        /// <summary>Writes what is left of a finished document.</summary>
        public void Complete() => Flush();

        /// <summary>Only disposes: a document that failed half-way adds nothing more to the output.</summary>
        public void Dispose()
        {
            Writer.Dispose();
            _buffer.Dispose();
        }

        private void Flush()
        {
            Writer.Flush();
            var bytes = _buffer.GetBuffer().AsSpan(0, (int)_buffer.Length);
            var needed = _utf8.GetCharCount(bytes, flush: false);
            if (_chars.Length < needed)
            {
                _chars = new char[needed];
            }

            var written = _utf8.GetChars(bytes, _chars, flush: false);
            _output.Write(_chars, 0, written);
            _buffer.SetLength(0);
        }
    }
}
