using System.Security.Cryptography;

namespace Arcboard.Agent;

/// <summary>
/// What a host that runs the agent in its own process (the sandbox's modelled instances) may supply instead of the
/// agent's defaults. The executable never sets any of these: on a real machine each run makes its own key and connection.
/// </summary>
public sealed class AgentServices
{
    public static AgentServices Default { get; } = new();

    /// <summary>Makes the RSA-2048 key pair for <c>genkey</c>; the caller owns the key it returns. Null makes a fresh one.</summary>
    public Func<RSA>? CreateKey { get; init; }

    /// <summary>
    /// A transport shared by every run for the identity service, so thousands of runs in one process reuse connections
    /// instead of exhausting sockets. It decides which certificates to trust (<c>AZCMAGENT_CA_CERT</c> is then not read)
    /// and is never disposed by the agent. Null makes one per run.
    /// </summary>
    public HttpMessageInvoker? IdentityTransport { get; init; }
}
