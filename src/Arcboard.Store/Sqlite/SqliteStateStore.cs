using System.Globalization;
using System.Text;
using Arcboard.Core.Fleet;
using Arcboard.Core.State;
using Microsoft.Data.Sqlite;

namespace Arcboard.Store.Sqlite;

/// <summary>
/// <see cref="IStateStore"/> on one SQLite file: WAL journal, <c>synchronous=FULL</c> so a write is on disk when the
/// call returns (the connector may be killed right after), and a busy timeout so a second process sharing the file
/// waits its turn instead of failing. One connection per store; calls are serialized, which costs nothing because
/// SQLite serializes writers anyway.
/// </summary>
public sealed class SqliteStateStore : IStateStore
{
    private static readonly TimeSpan s_defaultBusyTimeout = TimeSpan.FromSeconds(30);

    private readonly TimeProvider _time;
    private readonly TimeSpan _busyTimeout;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SqliteConnection? _connection;
    private bool _disposed;

    public SqliteStateStore(string path, TimeProvider time)
        : this(path, time, s_defaultBusyTimeout)
    {
    }

    /// <param name="busyTimeout">How long to wait for another process holding the file before giving up.</param>
    public SqliteStateStore(string path, TimeProvider time, TimeSpan busyTimeout)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(busyTimeout, TimeSpan.Zero);
        _time = time;
        _busyTimeout = busyTimeout;
        Path = System.IO.Path.GetFullPath(path);

        if (Directory.Exists(Path))
        {
            throw new StoreException(Path, $"State store '{Path}' is a folder, not a file. Set store.sqlite to a file path such as '{System.IO.Path.Combine(Path, "arcboard.db")}'.");
        }

        var folder = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(folder))
        {
            try
            {
                Directory.CreateDirectory(folder);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new StoreException(Path, $"State store '{Path}': cannot create its folder '{folder}' ({ex.Message}). Create the folder, or point store.sqlite somewhere this user can write.", ex);
            }
        }
    }

    /// <summary>The full path of the database file.</summary>
    public string Path { get; }

    /// <summary>The schema version this build writes.</summary>
    public static int SchemaVersion => Schema.LatestVersion;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            EnsureOpen();
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task<InstanceRecord?> GetAsync(InstanceKey key, CancellationToken cancellationToken) =>
        RunAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM instances WHERE account_id = $a AND region = $r AND instance_id = $i";
            command.Parameters.AddWithValue("$a", key.AccountId);
            command.Parameters.AddWithValue("$r", key.Region);
            command.Parameters.AddWithValue("$i", key.InstanceId);
            using var reader = command.ExecuteReader();
            return reader.Read() ? ReadRecord(reader) : null;
        }, cancellationToken);

    public Task<IReadOnlyList<InstanceRecord>> ListAsync(CancellationToken cancellationToken) =>
        RunAsync(connection => ReadAll(connection, scope: null), cancellationToken);

    public Task<IReadOnlyList<InstanceRecord>> ListAsync(AwsScope scope, CancellationToken cancellationToken) =>
        RunAsync(connection => ReadAll(connection, scope), cancellationToken);

    public Task SaveAsync(InstanceRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return SaveAllAsync([record], cancellationToken);
    }

    public Task SaveAllAsync(IReadOnlyCollection<InstanceRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return Task.CompletedTask;
        }

        return RunAsync(connection =>
        {
            // The token was honoured before the transaction began; from here on the batch either commits whole
            // or rolls back whole, never stops half-way because a caller lost interest.
            using var transaction = connection.BeginTransaction(deferred: false);
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = Upsert;
            var parameters = UpsertParameterNames.Select(name => command.Parameters.Add(name, SqliteType.Text)).ToArray();
            command.Prepare();
            foreach (var record in records)
            {
                var values = ToColumnValues(record);
                for (var i = 0; i < parameters.Length; i++)
                {
                    parameters[i].Value = values[i] ?? DBNull.Value;
                }

                command.ExecuteNonQuery();
            }

            transaction.Commit();
            return true;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<InstanceKey>> FindByPublicKeyAsync(string publicKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(publicKey);
        return RunAsync(connection =>
        {
            // Served by ix_instances_public_key: one index probe per key received.
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT account_id, region, instance_id FROM instances WHERE public_key = $k";
            command.Parameters.AddWithValue("$k", publicKey);
            using var reader = command.ExecuteReader();
            var keys = new List<InstanceKey>();
            while (reader.Read())
            {
                keys.Add(new InstanceKey(reader.GetString(0), reader.GetString(1), reader.GetString(2)));
            }

            return (IReadOnlyList<InstanceKey>)keys;
        }, cancellationToken);
    }

    public Task DeleteAsync(InstanceKey key, CancellationToken cancellationToken) =>
        RunAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM instances WHERE account_id = $a AND region = $r AND instance_id = $i";
            command.Parameters.AddWithValue("$a", key.AccountId);
            command.Parameters.AddWithValue("$r", key.Region);
            command.Parameters.AddWithValue("$i", key.InstanceId);
            return command.ExecuteNonQuery();
        }, cancellationToken);

    public Task<IReadOnlyList<string>> CheckIntegrityAsync(CancellationToken cancellationToken) =>
        RunAsync(connection => (IReadOnlyList<string>)IntegrityChecks.Run(connection), cancellationToken);

    /// <summary>Reads a pragma on the store's own connection, so tests can pin the durability settings.</summary>
    internal Task<object?> ReadPragmaAsync(string name, CancellationToken cancellationToken) =>
        RunAsync(connection => Scalar(connection, $"PRAGMA {name};"), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                _connection = null;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<T> RunAsync<T>(Func<SqliteConnection, T> work, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var connection = EnsureOpen();
            try
            {
                return work(connection);
            }
            catch (SqliteException ex)
            {
                throw Translate(ex);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private SqliteConnection EnsureOpen()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_connection is not null)
        {
            return _connection;
        }

        CheckFileHeader();
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // One long-lived connection per store; pooling would keep the file open after DisposeAsync.
            Pooling = false,
            DefaultTimeout = (int)Math.Ceiling(_busyTimeout.TotalSeconds),
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            Execute(connection, $"PRAGMA busy_timeout = {(long)_busyTimeout.TotalMilliseconds};");
            var journal = Scalar(connection, "PRAGMA journal_mode = WAL;") as string;
            if (!string.Equals(journal, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new StoreException(Path, $"State store '{Path}': SQLite refused WAL journal mode (got '{journal}'), which happens on network file systems. Put store.sqlite on a local disk.");
            }

            // FULL makes every commit wait for fsync of the WAL: the durability the reconciler counts on.
            Execute(connection, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
            Migrate(connection);
        }
        catch (SqliteException ex)
        {
            connection.Dispose();
            throw Translate(ex);
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        _connection = connection;
        return connection;
    }

    /// <summary>Reads the first bytes before SQLite does, so a wrong file gets a plain answer rather than "file is not a database".</summary>
    private void CheckFileHeader()
    {
        if (!File.Exists(Path))
        {
            return;
        }

        var header = new byte[16];
        int read;
        try
        {
            using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            read = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StoreException(Path, $"State store '{Path}' cannot be read ({ex.Message}). Give the connector's user read and write access to it and its folder.", ex);
        }

        if (read == 0)
        {
            return; // An empty file is a new database to SQLite.
        }

        if (read < header.Length || !header.AsSpan().SequenceEqual("SQLite format 3\0"u8))
        {
            throw new StoreException(Path, $"State store '{Path}' is not an SQLite database. Point store.sqlite at an Arcboard database, or at a path that does not exist yet to start a new one.");
        }
    }

    private void Migrate(SqliteConnection connection)
    {
        // IMMEDIATE takes the write lock up front, so two processes opening a new file at once do not both migrate it.
        using var transaction = connection.BeginTransaction(deferred: false);
        var applicationId = Convert.ToInt32(Scalar(connection, "PRAGMA application_id;", transaction), CultureInfo.InvariantCulture);
        var objects = Convert.ToInt64(Scalar(connection, "SELECT count(*) FROM sqlite_schema;", transaction), CultureInfo.InvariantCulture);

        if (applicationId != Schema.ApplicationId)
        {
            if (applicationId != 0 || objects > 0)
            {
                throw new StoreException(Path, $"State store '{Path}' is an SQLite database but not an Arcboard one (application id {applicationId:x8}). Point store.sqlite at an Arcboard database, or at a path that does not exist yet to start a new one.");
            }

            Execute(connection, $"PRAGMA application_id = {Schema.ApplicationId}; CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);", transaction);
        }

        long current;
        try
        {
            current = Convert.ToInt64(Scalar(connection, "SELECT coalesce(max(version), 0) FROM schema_version;", transaction), CultureInfo.InvariantCulture);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 1)
        {
            throw new StoreException(Path, $"State store '{Path}' is marked as an Arcboard database but has no schema_version table; it is damaged. Restore it from a backup, or move it away to start a new one.", ex);
        }

        if (current > Schema.LatestVersion)
        {
            throw new StoreException(Path, $"State store '{Path}' has schema version {current}, newer than the {Schema.LatestVersion} this Arcboard understands: a newer Arcboard wrote it. Upgrade Arcboard, or point store.sqlite at another file.");
        }

        for (var version = (int)current + 1; version <= Schema.LatestVersion; version++)
        {
            Execute(connection, Schema.Migrations[version - 1], transaction);
            using var record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = "INSERT INTO schema_version (version, applied_at) VALUES ($v, $t);";
            record.Parameters.AddWithValue("$v", version);
            record.Parameters.AddWithValue("$t", FormatTime(_time.GetUtcNow()));
            record.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private StoreException Translate(SqliteException ex)
    {
        var (what, todo, transient) = (ex.SqliteErrorCode & 0xFF) switch
        {
            5 or 6 => ("is locked by another process", $"It held the lock longer than the busy timeout ({_busyTimeout.TotalSeconds:0.#} s); retry, or check no stuck process holds it.", true),
            8 => ("is read-only", "Give the connector's user write access to the file and its folder (SQLite writes -wal and -shm files next to it).", false),
            10 => ("could not be read or written (I/O error)", "Check the disk and the file's permissions.", false),
            11 => ("is damaged", "Restore it from a backup, or move it away to start a new one (Arcboard then rediscovers the fleet).", false),
            13 => ("could not be written because the disk is full", "Free some space.", false),
            14 => ("cannot be opened", "Check that it and its folder are readable and writable by the connector's user.", false),
            23 or 26 => ("is not an SQLite database or is encrypted", "Point store.sqlite at an Arcboard database, or at a path that does not exist yet.", false),
            _ => ("failed", "See the inner error for details.", false),
        };
        return new StoreException(Path, $"State store '{Path}' {what}. {todo} (SQLite error {ex.SqliteErrorCode}: {ex.Message})", ex) { IsTransient = transient };
    }

    private IReadOnlyList<InstanceRecord> ReadAll(SqliteConnection connection, AwsScope? scope)
    {
        using var command = connection.CreateCommand();
        var where = scope is null ? "" : " WHERE account_id = $a AND region = $r";
        command.CommandText = $"SELECT {Columns} FROM instances{where} ORDER BY account_id, region, instance_id";
        if (scope is not null)
        {
            command.Parameters.AddWithValue("$a", scope.AccountId);
            command.Parameters.AddWithValue("$r", scope.Region);
        }

        using var reader = command.ExecuteReader();
        var records = new List<InstanceRecord>();
        while (reader.Read())
        {
            records.Add(ReadRecord(reader));
        }

        return records;
    }

    private InstanceRecord ReadRecord(SqliteDataReader reader)
    {
        var row = RawRow.Read(reader);
        var problems = new List<string>();
        var record = row.ToRecord(problems);
        if (record is null)
        {
            throw new StoreException(Path, $"State store '{Path}': the row for {row.Key} cannot be read: {string.Join("; ", problems)}. Run `arcboard check` to list every such problem; delete or fix the row.");
        }

        return record;
    }

    internal const string Columns =
        "account_id, region, instance_id, platform, stage, command_id, command_sent_at, public_key, vm_id, subscription_id, " +
        "resource_group, machine_name, location, resource_id, created_by_arcboard, outcome, reason, failed_step, attempts, updated_at";

    private static readonly string[] UpsertParameterNames = Columns.Split(", ").Select(c => "$" + c).ToArray();

    private static readonly string Upsert =
        $"INSERT INTO instances ({Columns}) VALUES ({string.Join(", ", UpsertParameterNames)}) " +
        "ON CONFLICT (account_id, region, instance_id) DO UPDATE SET " +
        string.Join(", ", Columns.Split(", ").Skip(3).Select(c => $"{c} = excluded.{c}"));

    private static object?[] ToColumnValues(InstanceRecord r) =>
    [
        r.Key.AccountId,
        r.Key.Region,
        r.Key.InstanceId,
        r.Platform.ToString(),
        r.Stage.ToString(),
        r.CommandId,
        r.CommandSentAt is { } sent ? FormatTime(sent) : null,
        r.PublicKey,
        r.VmId?.ToString("D"),
        r.SubscriptionId,
        r.ResourceGroup,
        r.MachineName,
        r.Location,
        r.ResourceId,
        r.CreatedByArcboard ? 1L : 0L,
        r.Outcome?.ToString(),
        r.Reason,
        r.FailedStep,
        (long)r.Attempts,
        FormatTime(r.UpdatedAt),
    ];

    // Fixed width with seven fractional digits: keeps every tick and sorts as text in time order.
    internal static string FormatTime(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    internal static bool TryParseTime(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>A row as stored, before any parsing, so the integrity check can report on rows that do not parse.</summary>
    internal sealed record RawRow(
        string AccountId, string Region, string InstanceId, string? Platform, string? Stage, string? CommandId,
        string? CommandSentAt, string? PublicKey, string? VmId, string? SubscriptionId, string? ResourceGroup,
        string? MachineName, string? Location, string? ResourceId, long CreatedByArcboard, string? Outcome,
        string? Reason, string? FailedStep, long Attempts, string? UpdatedAt)
    {
        public string Key => $"{AccountId}/{Region}/{InstanceId}";

        public static RawRow Read(SqliteDataReader r)
        {
            string? S(int i) => r.IsDBNull(i) ? null : Convert.ToString(r.GetValue(i), CultureInfo.InvariantCulture);
            long L(int i) => r.IsDBNull(i) ? 0 : r.GetInt64(i);
            return new RawRow(S(0) ?? "", S(1) ?? "", S(2) ?? "", S(3), S(4), S(5), S(6), S(7), S(8), S(9), S(10), S(11),
                S(12), S(13), L(14), S(15), S(16), S(17), L(18), S(19));
        }

        /// <summary>Converts to a record, adding a problem for every column that does not parse; null when any did not.</summary>
        public InstanceRecord? ToRecord(List<string> problems)
        {
            var start = problems.Count;
            var platform = ParseEnum<Platform>(Platform, "platform", problems);
            var stage = ParseEnum<OnboardingStage>(Stage, "stage", problems);
            Outcome? outcome = Outcome is null ? null : ParseEnum<Outcome>(Outcome, "outcome", problems);
            DateTimeOffset? sentAt = null;
            if (CommandSentAt is not null)
            {
                if (TryParseTime(CommandSentAt, out var parsed))
                {
                    sentAt = parsed;
                }
                else
                {
                    problems.Add($"command_sent_at '{CommandSentAt}' is not an ISO 8601 time");
                }
            }

            var updatedAt = DateTimeOffset.MinValue;
            if (UpdatedAt is null || !TryParseTime(UpdatedAt, out updatedAt))
            {
                problems.Add($"updated_at '{UpdatedAt}' is not an ISO 8601 time");
            }

            Guid? vmId = null;
            if (VmId is not null)
            {
                if (Guid.TryParse(VmId, out var guid))
                {
                    vmId = guid;
                }
                else
                {
                    problems.Add($"vm_id '{VmId}' is not a GUID");
                }
            }

            if (Attempts is < 0 or > int.MaxValue)
            {
                problems.Add($"attempts {Attempts} is out of range");
            }

            if (problems.Count > start)
            {
                return null;
            }

            return new InstanceRecord
            {
                Key = new InstanceKey(AccountId, Region, InstanceId),
                Platform = platform,
                Stage = stage,
                CommandId = CommandId,
                CommandSentAt = sentAt,
                PublicKey = PublicKey,
                VmId = vmId,
                SubscriptionId = SubscriptionId,
                ResourceGroup = ResourceGroup,
                MachineName = MachineName,
                Location = Location,
                ResourceId = ResourceId,
                CreatedByArcboard = CreatedByArcboard != 0,
                Outcome = outcome,
                Reason = Reason,
                FailedStep = FailedStep,
                Attempts = (int)Attempts,
                UpdatedAt = updatedAt,
            };
        }

        private static T ParseEnum<T>(string? text, string column, List<string> problems)
            where T : struct, Enum
        {
            // Names only: a number would parse too, but the file stores names and a number means someone wrote it by hand.
            if (text is not null && !text.Any(char.IsDigit) && Enum.TryParse<T>(text, ignoreCase: false, out var value) && Enum.IsDefined(value))
            {
                return value;
            }

            var known = new StringBuilder().AppendJoin(", ", Enum.GetNames<T>());
            problems.Add($"{column} '{text}' is not one of {known}");
            return default;
        }
    }
}
