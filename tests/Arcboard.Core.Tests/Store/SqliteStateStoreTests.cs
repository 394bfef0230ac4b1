using Arcboard.Core.Fleet;
using Arcboard.Core.State;
using Arcboard.Store;
using Arcboard.Store.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Arcboard.Core.Tests.Store;

public sealed class SqliteStateStoreTests : IDisposable
{
    private static readonly DateTimeOffset s_now = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);
    private readonly TempFolder _folder = new();
    private readonly FakeTimeProvider _time = new(s_now);

    public void Dispose() => _folder.Dispose();

    private SqliteStateStore NewStore(string name = "state.db", TimeSpan? busyTimeout = null) =>
        new(_folder.File(name), _time, busyTimeout ?? TimeSpan.FromSeconds(10));

    private static InstanceRecord Record(string instanceId, string account = "111111111111", string region = "us-east-1") => new()
    {
        Key = new InstanceKey(account, region, instanceId),
        Platform = Platform.Linux,
        Stage = OnboardingStage.Discovered,
        UpdatedAt = s_now,
    };

    private static InstanceRecord FullRecord() => new()
    {
        Key = new InstanceKey("123456789012", "eu-west-2", "i-0123456789abcdef0"),
        Platform = Platform.Windows,
        Stage = OnboardingStage.ConnectRequested,
        CommandId = "8c3a8f3e-1234-4f5e-9a1b-abcdefabcdef",
        // A non-UTC offset and sub-millisecond ticks: both must survive the round trip.
        CommandSentAt = new DateTimeOffset(2026, 12, 3, 11, 22, 33, TimeSpan.FromHours(2)).AddTicks(1234567),
        PublicKey = "MIIBCgKCAQEAtest",
        VmId = Guid.Parse("5b1f3c2e-9d4a-4f8e-8c7b-1a2b3c4d5e6f"),
        SubscriptionId = "00000000-0000-0000-0000-000000000001",
        ResourceGroup = "aws_123456789012",
        MachineName = "i-0123456789abcdef0",
        Location = "uksouth",
        ResourceId = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/aws_123456789012/providers/Microsoft.HybridCompute/machines/i-0123456789abcdef0",
        CreatedByArcboard = true,
        Outcome = Outcome.Failed,
        Reason = "connect timed out; O'Brien's \"quotes\" and ünïcode survive",
        FailedStep = "connect",
        Attempts = 3,
        UpdatedAt = s_now.AddTicks(7),
    };

    [Fact]
    public async Task Every_field_survives_a_round_trip()
    {
        await using var store = NewStore();
        var record = FullRecord();
        await store.SaveAsync(record, CancellationToken.None);

        var read = await store.GetAsync(record.Key, CancellationToken.None);

        read.ShouldBe(record);
        read!.CommandSentAt!.Value.UtcTicks.ShouldBe(record.CommandSentAt!.Value.UtcTicks);
        read.UpdatedAt.Offset.ShouldBe(TimeSpan.Zero);
    }

    [Fact]
    public async Task A_minimal_record_round_trips_with_nulls()
    {
        await using var store = NewStore();
        var record = Record("i-1");
        await store.SaveAsync(record, CancellationToken.None);

        (await store.GetAsync(record.Key, CancellationToken.None)).ShouldBe(record);
    }

    [Fact]
    public async Task Get_returns_null_for_an_unknown_instance()
    {
        await using var store = NewStore();
        (await store.GetAsync(new InstanceKey("111111111111", "us-east-1", "i-nope"), CancellationToken.None)).ShouldBeNull();
    }

    [Fact]
    public async Task Save_replaces_the_row_with_the_same_key()
    {
        await using var store = NewStore();
        var first = FullRecord();
        await store.SaveAsync(first, CancellationToken.None);
        var second = Record(first.Key.InstanceId, first.Key.AccountId, first.Key.Region) with { Stage = OnboardingStage.KeyRequesting, Attempts = 1 };

        await store.SaveAsync(second, CancellationToken.None);

        var all = await store.ListAsync(CancellationToken.None);
        all.ShouldHaveSingleItem().ShouldBe(second);
    }

    [Fact]
    public async Task List_orders_by_account_region_and_instance_and_scope_lists_only_its_rows()
    {
        await using var store = NewStore();
        await store.SaveAllAsync(
        [
            Record("i-b", "222222222222", "us-east-1"),
            Record("i-c", "111111111111", "us-west-2"),
            Record("i-b", "111111111111", "us-east-1"),
            Record("i-a", "111111111111", "us-east-1"),
            Record("i-a", "222222222222", "eu-west-1"),
        ], CancellationToken.None);

        var all = await store.ListAsync(CancellationToken.None);
        all.Select(r => r.Key.ToString()).ShouldBe(
        [
            "111111111111/us-east-1/i-a",
            "111111111111/us-east-1/i-b",
            "111111111111/us-west-2/i-c",
            "222222222222/eu-west-1/i-a",
            "222222222222/us-east-1/i-b",
        ]);

        var scoped = await store.ListAsync(new AwsScope("111111111111", "us-east-1"), CancellationToken.None);
        scoped.Select(r => r.Key.InstanceId).ShouldBe(["i-a", "i-b"]);
        (await store.ListAsync(new AwsScope("333333333333", "us-east-1"), CancellationToken.None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Delete_removes_only_that_row()
    {
        await using var store = NewStore();
        await store.SaveAllAsync([Record("i-a"), Record("i-b")], CancellationToken.None);

        await store.DeleteAsync(new InstanceKey("111111111111", "us-east-1", "i-a"), CancellationToken.None);

        (await store.ListAsync(CancellationToken.None)).ShouldHaveSingleItem().Key.InstanceId.ShouldBe("i-b");
    }

    [Fact]
    public async Task SaveAll_is_all_or_none()
    {
        var path = _folder.File("state.db");
        await using (var store = NewStore())
        {
            await store.SaveAsync(Record("i-a") with { Attempts = 1 }, CancellationToken.None);
        }

        // A trigger that fails on the third row stands in for anything that breaks mid-batch (disk full, I/O error).
        await using (var raw = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await raw.OpenAsync();
            await using var command = raw.CreateCommand();
            command.CommandText = "CREATE TRIGGER fail_c BEFORE INSERT ON instances WHEN NEW.instance_id = 'i-c' BEGIN SELECT RAISE(ABORT, 'planted failure'); END;";
            await command.ExecuteNonQueryAsync();
        }

        await using (var store = NewStore())
        {
            var failure = await Should.ThrowAsync<StoreException>(() => store.SaveAllAsync(
                [Record("i-a") with { Attempts = 2 }, Record("i-b"), Record("i-c"), Record("i-d")], CancellationToken.None));
            failure.Message.ShouldContain(path);

            var rows = await store.ListAsync(CancellationToken.None);
            rows.ShouldHaveSingleItem().Attempts.ShouldBe(1);
        }
    }

    [Fact]
    public async Task Writes_survive_reopening_and_are_visible_to_a_second_store_before_the_first_is_closed()
    {
        var first = NewStore();
        await first.SaveAsync(FullRecord(), CancellationToken.None);

        // Not disposing the first store mimics a process killed right after SaveAsync returned.
        await using (var second = NewStore())
        {
            (await second.GetAsync(FullRecord().Key, CancellationToken.None)).ShouldBe(FullRecord());
        }

        await first.DisposeAsync();
        await using var third = NewStore();
        (await third.ListAsync(CancellationToken.None)).ShouldHaveSingleItem().ShouldBe(FullRecord());
    }

    [Fact]
    public async Task The_file_uses_WAL_and_records_its_schema_version()
    {
        var path = _folder.File("state.db");
        await using (var store = NewStore())
        {
            await store.InitializeAsync(CancellationToken.None);
        }

        await using var raw = new SqliteConnection($"Data Source={path};Pooling=False");
        await raw.OpenAsync();
        (await ScalarAsync(raw, "PRAGMA journal_mode")).ShouldBe("wal");
        (await ScalarAsync(raw, "SELECT max(version) FROM schema_version")).ShouldBe((long)SqliteStateStore.SchemaVersion);
        (await ScalarAsync(raw, "SELECT applied_at FROM schema_version WHERE version = 1")).ShouldBe("2026-12-03T10:00:00.0000000Z");
    }

    [Fact]
    public async Task The_connection_commits_with_full_fsync_and_waits_on_locks()
    {
        await using var store = NewStore(busyTimeout: TimeSpan.FromSeconds(7));

        // synchronous=FULL (2) is what makes a commit survive power loss, not just a killed process.
        (await store.ReadPragmaAsync("synchronous", CancellationToken.None)).ShouldBe(2L);
        (await store.ReadPragmaAsync("busy_timeout", CancellationToken.None)).ShouldBe(7000L);
        (await store.ReadPragmaAsync("journal_mode", CancellationToken.None)).ShouldBe("wal");
    }

    [Fact]
    public async Task Reopening_does_not_migrate_twice()
    {
        await using (var store = NewStore())
        {
            await store.SaveAsync(Record("i-a"), CancellationToken.None);
        }

        await using (var store = NewStore())
        {
            await store.InitializeAsync(CancellationToken.None);
            (await store.CheckIntegrityAsync(CancellationToken.None)).ShouldBeEmpty();
        }

        await using var raw = new SqliteConnection($"Data Source={_folder.File("state.db")};Pooling=False");
        await raw.OpenAsync();
        (await ScalarAsync(raw, "SELECT count(*) FROM schema_version")).ShouldBe((long)SqliteStateStore.SchemaVersion);
    }

    [Fact]
    public async Task Creates_a_missing_folder()
    {
        var path = Path.Combine(_folder.Path, "a", "b", "state.db");
        await using var store = new SqliteStateStore(path, _time);
        await store.SaveAsync(Record("i-a"), CancellationToken.None);
        File.Exists(path).ShouldBeTrue();
    }

    [Fact]
    public async Task Two_stores_on_one_file_write_concurrently_without_losing_rows()
    {
        await using var a = NewStore();
        await using var b = NewStore();
        await a.InitializeAsync(CancellationToken.None);
        await b.InitializeAsync(CancellationToken.None);

        async Task Write(SqliteStateStore store, string prefix)
        {
            for (var i = 0; i < 40; i++)
            {
                await store.SaveAllAsync([Record($"{prefix}-{i}-x"), Record($"{prefix}-{i}-y")], CancellationToken.None);
            }
        }

        await Task.WhenAll(Task.Run(() => Write(a, "i-a")), Task.Run(() => Write(b, "i-b")));

        (await a.ListAsync(CancellationToken.None)).Count.ShouldBe(160);
        (await b.ListAsync(CancellationToken.None)).Count.ShouldBe(160);
    }

    [Fact]
    public async Task A_writer_waits_for_another_process_lock_instead_of_failing()
    {
        await using var store = NewStore();
        await store.InitializeAsync(CancellationToken.None);
        await using var raw = new SqliteConnection($"Data Source={_folder.File("state.db")};Pooling=False");
        await raw.OpenAsync();
        var lockHolder = raw.BeginTransaction(deferred: false);

        var save = Task.Run(() => store.SaveAsync(Record("i-a"), CancellationToken.None));
        await Task.Delay(300);
        save.IsCompleted.ShouldBeFalse();

        lockHolder.Commit();
        await save.WaitAsync(TimeSpan.FromSeconds(10));
        (await store.ListAsync(CancellationToken.None)).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task A_lock_held_past_the_busy_timeout_gives_a_transient_StoreException()
    {
        await using var store = NewStore(busyTimeout: TimeSpan.FromMilliseconds(200));
        await store.InitializeAsync(CancellationToken.None);
        await using var raw = new SqliteConnection($"Data Source={_folder.File("state.db")};Pooling=False");
        await raw.OpenAsync();
        using var lockHolder = raw.BeginTransaction(deferred: false);

        var failure = await Should.ThrowAsync<StoreException>(() => store.SaveAsync(Record("i-a"), CancellationToken.None));

        failure.IsTransient.ShouldBeTrue();
        failure.Message.ShouldContain("locked by another process");
        failure.Message.ShouldContain(_folder.File("state.db"));
    }

    [Fact]
    public void A_folder_path_is_refused_with_what_to_set()
    {
        var failure = Should.Throw<StoreException>(() => new SqliteStateStore(_folder.Path, _time));
        failure.Message.ShouldContain($"'{_folder.Path}' is a folder");
        failure.Message.ShouldContain("store.sqlite");
    }

    [Fact]
    public void A_folder_that_cannot_be_created_is_reported()
    {
        var blocker = _folder.File("plain-file");
        File.WriteAllText(blocker, "x");

        var failure = Should.Throw<StoreException>(() => new SqliteStateStore(Path.Combine(blocker, "state.db"), _time));

        failure.Message.ShouldContain("cannot create its folder");
    }

    [Fact]
    public async Task A_file_that_is_not_SQLite_is_refused()
    {
        var path = _folder.File("notes.db");
        await File.WriteAllTextAsync(path, "these are my notes, not a database at all");
        await using var store = new SqliteStateStore(path, _time);

        var failure = await Should.ThrowAsync<StoreException>(() => store.InitializeAsync(CancellationToken.None));

        failure.Message.ShouldBe($"State store '{path}' is not an SQLite database. Point store.sqlite at an Arcboard database, or at a path that does not exist yet to start a new one.");
        (await File.ReadAllTextAsync(path)).ShouldBe("these are my notes, not a database at all");
    }

    [Fact]
    public async Task Another_applications_SQLite_database_is_refused_and_left_untouched()
    {
        var path = _folder.File("other.db");
        await using (var raw = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await raw.OpenAsync();
            await ExecuteAsync(raw, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)");
        }

        await using var store = new SqliteStateStore(path, _time);
        var failure = await Should.ThrowAsync<StoreException>(() => store.ListAsync(CancellationToken.None));

        failure.Message.ShouldContain("not an Arcboard one");
        failure.Message.ShouldContain(path);
        await using var check = new SqliteConnection($"Data Source={path};Pooling=False");
        await check.OpenAsync();
        (await ScalarAsync(check, "SELECT count(*) FROM sqlite_schema WHERE name = 'instances'")).ShouldBe(0L);
    }

    [Fact]
    public async Task A_newer_schema_version_is_refused_with_advice_to_upgrade()
    {
        var path = _folder.File("state.db");
        await using (var store = NewStore())
        {
            await store.InitializeAsync(CancellationToken.None);
        }

        await using (var raw = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await raw.OpenAsync();
            await ExecuteAsync(raw, "INSERT INTO schema_version VALUES (99, '2030-01-01T00:00:00Z')");
        }

        await using var newer = NewStore();
        var failure = await Should.ThrowAsync<StoreException>(() => newer.InitializeAsync(CancellationToken.None));

        failure.Message.ShouldContain("schema version 99");
        failure.Message.ShouldContain("Upgrade Arcboard");
        failure.Message.ShouldContain(path);
    }

    [Fact]
    public async Task Unreadable_file_is_reported_when_permissions_apply()
    {
        if (OperatingSystem.IsWindows() || Environment.UserName == "root")
        {
            return; // root reads anything; the folder and not-a-database cases cover the translation path.
        }

        var path = _folder.File("state.db");
        await using (var store = NewStore())
        {
            await store.InitializeAsync(CancellationToken.None);
        }

        File.SetUnixFileMode(path, UnixFileMode.None);
        await using var locked = NewStore();
        var failure = await Should.ThrowAsync<StoreException>(() => locked.InitializeAsync(CancellationToken.None));
        failure.Message.ShouldContain("cannot be read");
    }

    [Fact]
    public async Task Integrity_check_is_empty_for_a_sound_store()
    {
        await using var store = NewStore();
        await store.SaveAllAsync([FullRecord(), Record("i-a")], CancellationToken.None);
        (await store.CheckIntegrityAsync(CancellationToken.None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Integrity_check_reports_every_planted_violation()
    {
        var path = _folder.File("state.db");
        await using var store = NewStore();
        var good = FullRecord() with { Outcome = null, Reason = null };
        await store.SaveAsync(good, CancellationToken.None);

        await using (var raw = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await raw.OpenAsync();
            const string Columns = "account_id, region, instance_id, platform, stage, command_id, public_key, vm_id, subscription_id, resource_group, machine_name, resource_id, outcome, reason, updated_at";
            const string T = "'2026-12-03T10:00:00Z'";
            await ExecuteAsync(raw, $"""
                INSERT INTO instances ({Columns}) VALUES
                ('1', 'r', 'i-nocmd',  'Linux', 'KeyRequested',     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, {T}),
                ('1', 'r', 'i-novm',   'Linux', 'MachineCreating',  NULL, 'k1', NULL, 's', 'g', 'n', NULL, NULL, NULL, {T}),
                ('1', 'r', 'i-nores',  'Linux', 'Connected',        NULL, NULL, 'a3d3c3a0-0000-0000-0000-000000000001', NULL, NULL, NULL, NULL, NULL, NULL, {T}),
                ('1', 'r', 'i-dupres', 'Linux', 'Connected',        NULL, NULL, 'a3d3c3a0-0000-0000-0000-000000000002', NULL, NULL, NULL, upper('{good.ResourceId}'), NULL, NULL, {T}),
                ('1', 'r', 'i-dupkey', 'Linux', 'KeyReceived',      NULL, '{good.PublicKey}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, {T}),
                ('1', 'r', 'i-bad',    'Solaris', 'Teleported',     NULL, NULL, 'not-a-guid', NULL, NULL, NULL, NULL, NULL, NULL, 'yesterday'),
                ('1', 'r', 'i-noreason', 'Linux', 'Discovered',     NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'Failed', '  ', {T})
                """);
        }

        var problems = await store.CheckIntegrityAsync(CancellationToken.None);

        problems.ShouldContain("1/r/i-nocmd: stage KeyRequested has no command id, so the command in flight cannot be followed");
        problems.ShouldContain("1/r/i-novm: stage MachineCreating has no vmId");
        problems.ShouldContain("1/r/i-nores: stage Connected has no resource id");
        problems.ShouldContain($"rows 1/r/i-dupres, {good.Key} share one resource id");
        problems.ShouldContain($"rows 1/r/i-dupkey, {good.Key} share one public key");
        problems.ShouldContain(p => p.StartsWith("1/r/i-bad: platform 'Solaris' is not one of Linux, Windows", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("1/r/i-bad: stage 'Teleported' is not one of Discovered", StringComparison.Ordinal));
        problems.ShouldContain("1/r/i-bad: vm_id 'not-a-guid' is not a GUID");
        problems.ShouldContain("1/r/i-bad: updated_at 'yesterday' is not an ISO 8601 time");
        problems.ShouldContain("1/r/i-noreason: outcome Failed has no reason");
        problems.ShouldNotContain(p => p.Contains(good.PublicKey!, StringComparison.Ordinal));
        problems.ShouldNotContain(p => p.StartsWith(good.Key.ToString(), StringComparison.Ordinal));

        // Reading a row that does not parse names the row rather than throwing a format error.
        var failure = await Should.ThrowAsync<StoreException>(() => store.ListAsync(CancellationToken.None));
        failure.Message.ShouldContain("1/r/i-bad");
    }

    [Fact]
    public async Task Integrity_check_reports_a_damaged_file()
    {
        var path = _folder.File("state.db");
        await using (var store = NewStore())
        {
            await store.SaveAllAsync(Enumerable.Range(0, 200).Select(i => Record($"i-{i:d4}") with { Reason = new string('x', 200) }).ToArray(), CancellationToken.None);
        }

        // Drop the index pages' content behind SQLite's back: a classic corruption that integrity_check spots.
        await using (var raw = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await raw.OpenAsync();
            await ExecuteAsync(raw, "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = replace(sql, 'WHERE resource_id IS NOT NULL', '') WHERE name = 'ix_instances_resource_id';");
            await ExecuteAsync(raw, "PRAGMA wal_checkpoint(TRUNCATE);");
        }

        await using var reopened = NewStore();
        var problems = await reopened.CheckIntegrityAsync(CancellationToken.None);
        problems.ShouldContain(p => p.StartsWith("SQLite integrity_check:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancellation_before_a_call_leaves_nothing_written()
    {
        await using var store = NewStore();
        await store.InitializeAsync(CancellationToken.None);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(() => store.SaveAsync(Record("i-a"), cancelled.Token));

        (await store.ListAsync(CancellationToken.None)).ShouldBeEmpty();
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }
}
