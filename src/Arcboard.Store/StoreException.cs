namespace Arcboard.Store;

/// <summary>
/// The state store cannot be used. The message names the file and what to do about it; the SQLite error, when
/// there is one, is kept as the inner exception for diagnostics.
/// </summary>
public sealed class StoreException : Exception
{
    public StoreException(string path, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Path = path;
    }

    /// <summary>The database file the problem is about.</summary>
    public string Path { get; }

    /// <summary>True when retrying later may succeed (the file was locked by another process).</summary>
    public bool IsTransient { get; init; }
}
