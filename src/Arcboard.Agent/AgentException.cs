namespace Arcboard.Agent;

/// <summary>
/// A failure the CLI reports as one <c>AZCMnnnn: message</c> line and exit code nnnn.
/// Messages are shown to operators and land in SSM output: never put key material or signatures in them.
/// </summary>
public sealed class AgentException(int exitCode, string message, Exception? innerException = null) : Exception(message, innerException)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>
    /// The identity service said the saved key can never connect this machine again (its registration was used or
    /// its proof window closed): connect deletes it rather than leave a useless private key on disk.
    /// </summary>
    public bool SavedKeyIsSpent { get; init; }
}

/// <summary>The exit codes of the real agent that Arcboard mirrors (REFERENCE.md section 3).</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Unknown = 1;
    public const int MissingParameter = 16;
    public const int InvalidArgument = 23;
    public const int NetworkError = 26;
    public const int InvalidCredentials = 41;
    public const int ResourceCreationFailed = 42;
    public const int AlreadyConnected = 67;
    public const int RsaKeyError = 103;
    public const int PrivateKeyNotFound = 104;
    public const int SignedMessageFailed = 105;
}
