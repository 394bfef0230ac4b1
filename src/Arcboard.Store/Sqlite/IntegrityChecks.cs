using System.Globalization;
using Arcboard.Core.State;
using Microsoft.Data.Sqlite;

namespace Arcboard.Store.Sqlite;

/// <summary>
/// SQLite's own checks plus the invariants the reconciler relies on. Each problem is one sentence naming the row,
/// so an operator can find it with the sqlite3 shell.
/// </summary>
internal static class IntegrityChecks
{
    public static List<string> Run(SqliteConnection connection)
    {
        var problems = new List<string>();

        foreach (var line in Lines(connection, "PRAGMA integrity_check;"))
        {
            if (!string.Equals(line, "ok", StringComparison.Ordinal))
            {
                problems.Add($"SQLite integrity_check: {line}");
            }
        }

        using (var command = connection.CreateCommand())
        {
            command.CommandText = "PRAGMA foreign_key_check;";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                problems.Add($"SQLite foreign_key_check: table {reader.GetValue(0)} row {reader.GetValue(1)} refers to a missing row in {reader.GetValue(2)}");
            }
        }

        var version = Convert.ToInt64(Scalar(connection, "SELECT coalesce(max(version), 0) FROM schema_version;"), CultureInfo.InvariantCulture);
        if (version != Schema.LatestVersion)
        {
            problems.Add($"schema version is {version}, expected {Schema.LatestVersion}");
        }

        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT {SqliteStateStore.Columns} FROM instances ORDER BY account_id, region, instance_id";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var row = SqliteStateStore.RawRow.Read(reader);
                var rowProblems = new List<string>();
                var record = row.ToRecord(rowProblems);
                if (record is not null)
                {
                    CheckInvariants(record, rowProblems);
                }

                problems.AddRange(rowProblems.Select(p => $"{row.Key}: {p}"));
            }
        }

        // ARM resource ids are case-insensitive, so two rows differing only in case still point at one machine.
        Duplicates(connection, "lower(resource_id)", "resource id", problems);
        Duplicates(connection, "public_key", "public key", problems);
        return problems;
    }

    private static void CheckInvariants(InstanceRecord r, List<string> problems)
    {
        if (r.Stage is OnboardingStage.KeyRequested or OnboardingStage.ConnectRequested && string.IsNullOrEmpty(r.CommandId))
        {
            problems.Add($"stage {r.Stage} has no command id, so the command in flight cannot be followed");
        }

        if (r.Stage is >= OnboardingStage.KeyReceived and <= OnboardingStage.ConnectRequested && string.IsNullOrEmpty(r.PublicKey))
        {
            problems.Add($"stage {r.Stage} has no public key");
        }

        if (r.Stage >= OnboardingStage.MachineCreating && r.VmId is null)
        {
            problems.Add($"stage {r.Stage} has no vmId");
        }

        if (r.Stage is >= OnboardingStage.MachineCreating and <= OnboardingStage.ConnectRequested
            && (string.IsNullOrEmpty(r.SubscriptionId) || string.IsNullOrEmpty(r.ResourceGroup) || string.IsNullOrEmpty(r.MachineName)))
        {
            problems.Add($"stage {r.Stage} lacks the subscription, resource group or machine name of its machine");
        }

        if (r.Stage == OnboardingStage.Connected && string.IsNullOrEmpty(r.ResourceId))
        {
            problems.Add("stage Connected has no resource id");
        }

        if (r.Outcome == Outcome.Failed && string.IsNullOrWhiteSpace(r.Reason))
        {
            problems.Add("outcome Failed has no reason");
        }
    }

    private static void Duplicates(SqliteConnection connection, string expression, string what, List<string> problems)
    {
        using var command = connection.CreateCommand();
        command.CommandText =
            $"SELECT group_concat(account_id || '/' || region || '/' || instance_id, ', ') FROM " +
            $"(SELECT * FROM instances WHERE {expression} IS NOT NULL ORDER BY account_id, region, instance_id) " +
            $"GROUP BY {expression} HAVING count(*) > 1";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            // The shared value itself is left out: it identifies a machine or key, and the row keys are enough to find it.
            problems.Add($"rows {reader.GetString(0)} share one {what}");
        }
    }

    private static IEnumerable<string> Lines(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read())
        {
            lines.Add(reader.GetString(0));
        }

        return lines;
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
