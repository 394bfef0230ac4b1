using Arcboard.Core.Fleet;

namespace Arcboard.Core.State;

/// <summary>
/// Durable per-instance state. Every write is committed before the call returns (a crash right after it loses nothing).
/// </summary>
public interface IStateStore : IAsyncDisposable
{
    /// <summary>Creates the schema when missing and checks the store can be used.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    Task<InstanceRecord?> GetAsync(InstanceKey key, CancellationToken cancellationToken);

    /// <summary>Every record, ordered by account, region and instance id.</summary>
    Task<IReadOnlyList<InstanceRecord>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Every record of one account and region.</summary>
    Task<IReadOnlyList<InstanceRecord>> ListAsync(AwsScope scope, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces the record, atomically and durably.</summary>
    Task SaveAsync(InstanceRecord record, CancellationToken cancellationToken);

    /// <summary>Saves several records in one transaction: all or none.</summary>
    Task SaveAllAsync(IReadOnlyCollection<InstanceRecord> records, CancellationToken cancellationToken);

    /// <summary>Every instance whose record holds this public key (base64 PKCS#1, as recorded).</summary>
    Task<IReadOnlyList<InstanceKey>> FindByPublicKeyAsync(string publicKey, CancellationToken cancellationToken);

    Task DeleteAsync(InstanceKey key, CancellationToken cancellationToken);

    /// <summary>Runs the database's own integrity check plus Arcboard's invariants; returns the problems found (empty when sound).</summary>
    Task<IReadOnlyList<string>> CheckIntegrityAsync(CancellationToken cancellationToken);
}
