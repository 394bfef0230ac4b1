using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Arcboard.Agent;

/// <summary>What the agent reports about its host when it proves its key.</summary>
internal sealed record HostFacts(string OsName, string OsVersion, string OsType, string Hostname);

/// <summary>
/// The proof-of-possession exchange with the identity service (contracts.md section 2): ask for a nonce,
/// sign it with the private key, send the signature. The private key itself never leaves the machine.
/// </summary>
internal sealed class IdentityClient : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly Uri _baseAddress;
    private readonly HttpMessageInvoker _transport;
    private readonly bool _ownsTransport;

    /// <summary>A client with its own connection, trusting <paramref name="caCertificatePath"/> alone when given.</summary>
    public IdentityClient(Uri baseAddress, string? caCertificatePath)
        : this(baseAddress, new HttpMessageInvoker(CreateHandler(caCertificatePath), disposeHandler: true), ownsTransport: true)
    {
    }

    /// <summary>A client over a transport shared with other runs; it is left open on dispose.</summary>
    public IdentityClient(Uri baseAddress, HttpMessageInvoker sharedTransport)
        : this(baseAddress, sharedTransport, ownsTransport: false)
    {
    }

    private IdentityClient(Uri baseAddress, HttpMessageInvoker transport, bool ownsTransport)
    {
        _baseAddress = baseAddress;
        _transport = transport;
        _ownsTransport = ownsTransport;
    }

    /// <summary>The bytes signed as proof; any change here must also change the identity service.</summary>
    public static byte[] ProofPayload(string resourceId, Guid vmId, string nonce) =>
        Encoding.UTF8.GetBytes($"arcboard-proof-v1\n{resourceId.ToLowerInvariant()}\n{vmId.ToString("D").ToLowerInvariant()}\n{nonce}");

    public async Task ConnectAsync(string resourceId, Guid vmId, RSA privateKey, HostFacts host, CancellationToken cancellationToken)
    {
        var vm = vmId.ToString("D");
        var challenge = await PostAsync($"machine/{vm}/challenge", new JsonObject { ["resourceId"] = resourceId }, cancellationToken);
        var nonce = challenge["nonce"] is JsonValue n && n.TryGetValue<string>(out var s) && s.Length > 0
            ? s
            : throw new AgentException(ExitCodes.SignedMessageFailed, "The identity service returned no nonce.");

        var signature = privateKey.SignData(ProofPayload(resourceId, vmId, nonce), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        await PostAsync($"machine/{vm}/proof", new JsonObject
        {
            ["resourceId"] = resourceId,
            ["nonce"] = nonce,
            ["signature"] = Convert.ToBase64String(signature),
            ["agentVersion"] = AgentCli.Version,
            ["osName"] = host.OsName,
            ["osVersion"] = host.OsVersion,
            ["osType"] = host.OsType,
            ["hostname"] = host.Hostname,
        }, cancellationToken);
    }

    public void Dispose()
    {
        if (_ownsTransport)
        {
            _transport.Dispose();
        }
    }

    private async Task<JsonObject> PostAsync(string path, JsonObject body, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        string text;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_baseAddress, path))
            {
                Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            response = await _transport.SendAsync(request, timeout.Token);
            text = await response.Content.ReadAsStringAsync(timeout.Token);
        }
        catch (HttpRequestException e)
        {
            throw new AgentException(ExitCodes.NetworkError, $"Cannot reach the identity service at {_baseAddress}: {Describe(e)}", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AgentException(ExitCodes.NetworkError, $"The identity service at {_baseAddress} did not answer within {RequestTimeout.TotalSeconds:0} s.", e);
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                try
                {
                    return JsonNode.Parse(text) as JsonObject ?? [];
                }
                catch (JsonException)
                {
                    return [];
                }
            }

            var (code, message) = ReadError(text);
            throw Refusal((int)response.StatusCode, code, message);
        }
    }

    /// <summary>
    /// One clear line per refusal of the identity service (docs/contracts.md section 2), with the real agent's exit
    /// code that tells the caller what to do next: 41 a new key and registration, 42 pre-create the machine,
    /// 105 ask again, 26 retry later. The service's own message follows, and never holds key material.
    /// </summary>
    internal static AgentException Refusal(int status, string code, string message)
    {
        var detail = $"(identity service: {code}, HTTP {status}: {message})";
        return code switch
        {
            "MachineNotFound" => new AgentException(ExitCodes.ResourceCreationFailed, $"No machine resource has this resource id and vmId; pre-create it first. {detail}"),
            "NoKeyRegistered" => new AgentException(ExitCodes.ResourceCreationFailed, $"The machine resource carries no public key; pre-create it with the key 'azcmagent genkey' printed. {detail}"),
            "KeyMismatch" => new AgentException(ExitCodes.InvalidCredentials, $"The identity service refused the proof: this machine's key is not the one registered for the resource. {detail}"),
            "ProofForAnotherMachine" => new AgentException(ExitCodes.InvalidCredentials, $"The identity service refused the proof: it was made for another machine. {detail}"),
            "RegistrationUsed" => new AgentException(ExitCodes.InvalidCredentials, $"The identity service refused the proof: the registered key has already connected this machine once; run genkey and register the new key. {detail}") { SavedKeyIsSpent = true },
            "ProofWindowClosed" => new AgentException(ExitCodes.InvalidCredentials, $"The identity service refused the proof: the registered key is past its proof window; run genkey and register the new key. {detail}") { SavedKeyIsSpent = true },
            "NonceReused" => new AgentException(ExitCodes.SignedMessageFailed, $"The identity service refused a replayed proof; run connect again for a fresh challenge. {detail}"),
            "NonceUnknown" or "NonceExpired" => new AgentException(ExitCodes.SignedMessageFailed, $"The identity service did not accept the challenge being answered; run connect again for a fresh challenge. {detail}"),
            "InvalidRequest" => new AgentException(ExitCodes.SignedMessageFailed, $"The identity service could not read the request. {detail}"),
            _ => status switch
            {
                404 => new AgentException(ExitCodes.ResourceCreationFailed, $"The machine resource was not found or does not match this vmId; pre-create it first. {detail}"),
                401 or 403 or 409 => new AgentException(ExitCodes.InvalidCredentials, $"The identity service refused the proof of key. {detail}"),
                400 => new AgentException(ExitCodes.SignedMessageFailed, $"Failed to get a signed message from the identity service. {detail}"),
                // Busy or failing service: the same command may succeed later, which is what a network error tells the caller.
                429 or >= 500 => new AgentException(ExitCodes.NetworkError, $"The identity service is unavailable; try again later. {detail}"),
                _ => new AgentException(ExitCodes.Unknown, $"Unexpected answer from the identity service. {detail}"),
            },
        };
    }

    private static (string Code, string Message) ReadError(string text)
    {
        try
        {
            if (JsonNode.Parse(text)?["error"] is JsonObject error)
            {
                return (error["code"]?.GetValue<string>() ?? "Unknown", error["message"]?.GetValue<string>() ?? "");
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
        }

        return ("Unknown", "no error details");
    }

    private static string Describe(HttpRequestException e) => e.InnerException switch
    {
        AuthenticationException => "the server's TLS certificate is not trusted",
        SocketException s => s.SocketErrorCode.ToString(),
        _ => e.HttpRequestError.ToString(),
    };

    private static SocketsHttpHandler CreateHandler(string? caCertificatePath)
    {
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) };
        if (string.IsNullOrEmpty(caCertificatePath))
        {
            return handler;
        }

        X509Certificate2 pinned;
        try
        {
            pinned = X509Certificate2.CreateFromPem(File.ReadAllText(caCertificatePath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new AgentException(ExitCodes.InvalidArgument, $"AZCMAGENT_CA_CERT {caCertificatePath} is not a readable PEM certificate.", e);
        }

        var pinnedRaw = pinned.RawData;
        // Trust exactly this one certificate, whatever the system store says: the sandbox's is self-signed.
        handler.SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(pinnedRaw),
        };
        return handler;
    }
}
