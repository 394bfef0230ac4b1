namespace Arcboard.Store.Sqlite;

/// <summary>
/// The SQLite schema and its forward-only migrations. A migration is never edited once released: change the schema
/// by appending one, so every existing database walks the same path to the current version.
/// </summary>
internal static class Schema
{
    /// <summary>
    /// Written to the file header (<c>PRAGMA application_id</c>, "ARCB") so a file can be told apart from another
    /// application's SQLite database before anything is read or written.
    /// </summary>
    public const int ApplicationId = 0x41524342;

    public static IReadOnlyList<string> Migrations { get; } =
    [
        // 1: one row per instance. Enums are stored by name and times as ISO 8601 UTC text so the file stays
        // readable with the sqlite3 shell. No UNIQUE constraints on resource_id or public_key: a cloned image can
        // really hand two instances the same key, and the reconciler must be able to record that to report it;
        // CheckIntegrityAsync flags it instead.
        """
        CREATE TABLE instances (
            account_id          TEXT    NOT NULL,
            region              TEXT    NOT NULL,
            instance_id         TEXT    NOT NULL,
            platform            TEXT    NOT NULL,
            stage               TEXT    NOT NULL,
            command_id          TEXT,
            command_sent_at     TEXT,
            public_key          TEXT,
            vm_id               TEXT,
            subscription_id     TEXT,
            resource_group      TEXT,
            machine_name        TEXT,
            location            TEXT,
            resource_id         TEXT,
            created_by_arcboard INTEGER NOT NULL DEFAULT 0,
            outcome             TEXT,
            reason              TEXT,
            failed_step         TEXT,
            attempts            INTEGER NOT NULL DEFAULT 0,
            updated_at          TEXT    NOT NULL,
            PRIMARY KEY (account_id, region, instance_id)
        ) WITHOUT ROWID;
        CREATE INDEX ix_instances_resource_id ON instances (resource_id) WHERE resource_id IS NOT NULL;
        CREATE INDEX ix_instances_public_key ON instances (public_key) WHERE public_key IS NOT NULL;
        """,
    ];

    public static int LatestVersion => Migrations.Count;
}
