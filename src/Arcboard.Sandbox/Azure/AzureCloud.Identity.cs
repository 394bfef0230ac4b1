using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Arcboard.Sandbox.Azure;

/// <summary>
/// The identity service agents prove their key to (docs/contracts.md section 2). The real protocol is not public;
/// this one shows the property that matters: only the holder of the private key matching the pre-created
/// machine's clientPublicKey can connect it, once per registered key, within the proof window after the key was
/// registered; a captured proof cannot be replayed. Each refusal has its own code (<see cref="IdentityErrors"/>).
/// </summary>
public sealed partial class AzureCloud
{
    private const string ProofDomain = "arcboard-proof-v1";

    // DER prefix of a SHA-256 DigestInfo, as RSASSA-PKCS1-v1_5 wraps the hash (RFC 8017 section 9.2, note 1).
    private static readonly byte[] Sha256DigestInfoPrefix = [0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];

    private readonly Dictionary<string, IssuedNonce> _nonces = new(StringComparer.Ordinal);
    // Nonces already presented, kept until they would have expired, so a replayed proof is named as such.
    private readonly Dictionary<string, DateTimeOffset> _spentNonces = new(StringComparer.Ordinal);

    private void MapIdentityEndpoints(IEndpointRouteBuilder routes)
    {
        routes.MapPost("/machine/{vmId}/challenge", ChallengeAsync);
        routes.MapPost("/machine/{vmId}/proof", ProofAsync);
    }

    private async Task<IResult> ChallengeAsync(HttpContext context, string vmId)
    {
        _stats.Record("identity", "Challenge");
        if (InjectIdentityFault() is { } fault)
        {
            return fault;
        }

        if (await ReadJsonAsync(context.Request) is not JsonObject body || GetString(body, "resourceId") is not { Length: > 0 } resourceId)
        {
            return IdentityError(400, IdentityErrors.InvalidRequest, "The body must be a JSON object with a resourceId.");
        }

        if (!Guid.TryParse(vmId, out _))
        {
            return IdentityError(400, IdentityErrors.InvalidRequest, $"'{Truncate(vmId)}' in the path is not a vmId (a GUID).");
        }

        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (FindForIdentity(resourceId, vmId) is not { } key)
            {
                return IdentityError(404, IdentityErrors.MachineNotFound, "No machine has this resource id and vmId; pre-create the machine with its vmId first.");
            }

            var machine = _machines[key];
            if (RegistrationRefusal(machine, now) is { } refused)
            {
                return refused;
            }

            // Expired nonces are dropped here so a fleet that never finishes its exchanges cannot grow the tables forever.
            foreach (var stale in _nonces.Where(n => n.Value.ExpiresAt <= now).Select(n => n.Key).ToList())
            {
                _nonces.Remove(stale);
            }

            foreach (var stale in _spentNonces.Where(n => n.Value <= now).Select(n => n.Key).ToList())
            {
                _spentNonces.Remove(stale);
            }

            var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            var expiresAt = now + Options.NonceLifetime;
            _nonces[nonce] = new IssuedNonce(key, machine.RegistrationId, expiresAt);
            return Json(new JsonObject { ["nonce"] = nonce, ["expiresAt"] = MachineState.Iso(expiresAt) }, 200);
        }
    }

    private async Task<IResult> ProofAsync(HttpContext context, string vmId)
    {
        _stats.Record("identity", "Proof");
        if (InjectIdentityFault() is { } fault)
        {
            return fault;
        }

        if (await ReadJsonAsync(context.Request) is not JsonObject body
            || GetString(body, "resourceId") is not { Length: > 0 } resourceId
            || GetString(body, "nonce") is not { Length: > 0 } nonce
            || GetString(body, "signature") is not { Length: > 0 } signatureText)
        {
            return IdentityError(400, IdentityErrors.InvalidRequest, "The body must be a JSON object with resourceId, nonce and signature.");
        }

        if (!Guid.TryParse(vmId, out _))
        {
            return IdentityError(400, IdentityErrors.InvalidRequest, $"'{Truncate(vmId)}' in the path is not a vmId (a GUID).");
        }

        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(signatureText);
        }
        catch (FormatException)
        {
            return IdentityError(400, IdentityErrors.InvalidRequest, "The signature must be base64 of an RSA PKCS#1 v1.5 SHA-256 signature.");
        }

        var now = _time.GetUtcNow();
        lock (_gate)
        {
            _secrets?.Add(signatureText);
            if (FindForIdentity(resourceId, vmId) is not { } key)
            {
                return IdentityError(404, IdentityErrors.MachineNotFound, "No machine has this resource id and vmId; pre-create the machine with its vmId first.");
            }

            var machine = _machines[key];
            if (_spentNonces.ContainsKey(nonce))
            {
                return IdentityError(409, IdentityErrors.NonceReused, "This nonce was already presented with a proof; a proof is never accepted twice. Ask for a new challenge.");
            }

            // Single use: a nonce is spent by the first proof that presents it, whatever the outcome, so a failed
            // guess cannot be retried against the same challenge.
            if (!_nonces.Remove(nonce, out var issued) || issued.MachineKey != key || issued.RegistrationId != machine.RegistrationId)
            {
                return IdentityError(400, IdentityErrors.NonceUnknown, "The nonce was not issued for this machine and its current key; ask for a new challenge.");
            }

            _spentNonces[nonce] = issued.ExpiresAt;
            if (issued.ExpiresAt <= now)
            {
                return IdentityError(400, IdentityErrors.NonceExpired, $"The nonce expired at {MachineState.Iso(issued.ExpiresAt)}; ask for a new challenge and answer it within {Options.NonceLifetime.TotalSeconds:0} s.");
            }

            if (RegistrationRefusal(machine, now) is { } refused)
            {
                return refused;
            }

            switch (Verify(machine, nonce, signature))
            {
                case ProofCheck.OtherKey:
                    return IdentityError(401, IdentityErrors.KeyMismatch, "The signature was not made by the key registered for this machine (properties.clientPublicKey); run genkey and pre-create the machine with its public key.");
                case ProofCheck.OtherMessage:
                    return IdentityError(401, IdentityErrors.ProofForAnotherMachine, "The signature is by this machine's key but over another resource id, vmId or nonce; sign this machine's own challenge.");
            }

            var osType = GetString(body, "osType")?.ToLowerInvariant();
            var hostname = GetString(body, "hostname");
            if (machine.Status != "Connected")
            {
                machine.LastStatusChange = now;
            }

            machine.RegistrationUsed = true;
            machine.Status = "Connected";
            machine.AgentVersion = GetString(body, "agentVersion") ?? machine.AgentVersion;
            machine.OsName = GetString(body, "osName") ?? machine.OsName;
            machine.OsVersion = GetString(body, "osVersion") ?? machine.OsVersion;
            machine.OsType = osType is "linux" or "windows" ? osType : machine.OsType;
            machine.DisplayName = hostname ?? machine.DisplayName;
            machine.MachineFqdn = hostname ?? machine.MachineFqdn;
            machine.CloudProvider = "AWS";
            machine.LastModifiedAt = now;
            return Json(new JsonObject { ["status"] = "Connected" }, 200);
        }
    }

    /// <summary>Must be called under the lock. Why this machine's current registration cannot be proven now, or null.</summary>
    private IResult? RegistrationRefusal(MachineState machine, DateTimeOffset now)
    {
        if (machine.ClientPublicKey is null || machine.RegisteredAt is not { } registeredAt)
        {
            return IdentityError(409, IdentityErrors.NoKeyRegistered, "The machine has no clientPublicKey; pre-create it with the public key printed by genkey.");
        }

        if (machine.RegistrationUsed)
        {
            return IdentityError(409, IdentityErrors.RegistrationUsed, "The key registered for this machine has already been proven once; to connect again, run genkey and PUT the machine with the new public key.");
        }

        if (now - registeredAt > Options.ProofWindow)
        {
            return IdentityError(403, IdentityErrors.ProofWindowClosed, $"The key was registered at {MachineState.Iso(registeredAt)} and could be proven for {Options.ProofWindow.TotalMinutes:0} minutes only; run genkey and PUT the machine with the new public key.");
        }

        return null;
    }

    /// <summary>Must be called under the lock. The machine's key when both the resource id and the vmId match.</summary>
    private string? FindForIdentity(string resourceId, string vmId)
    {
        var match = ResourceIdPattern().Match(resourceId);
        if (!match.Success
            || !Guid.TryParse(vmId, out var vm)
            || !string.Equals(match.Groups["sub"].Value, Options.SubscriptionId, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var key = MachineKey(match.Groups["rg"].Value, match.Groups["name"].Value);
        return _machines.TryGetValue(key, out var machine) && machine.VmId == vm ? key : null;
    }

    private static ProofCheck Verify(MachineState machine, string nonce, byte[] signature)
    {
        try
        {
            using var rsa = RSA.Create();
            rsa.ImportRSAPublicKey(Convert.FromBase64String(machine.ClientPublicKey!), out _);
            var payload = Encoding.UTF8.GetBytes($"{ProofDomain}\n{machine.Id.ToLowerInvariant()}\n{machine.VmId.ToString("D").ToLowerInvariant()}\n{nonce}");
            if (rsa.VerifyData(payload, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            {
                return ProofCheck.Valid;
            }

            return IsSignatureByKey(rsa.ExportParameters(includePrivateParameters: false), signature) ? ProofCheck.OtherMessage : ProofCheck.OtherKey;
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            return ProofCheck.OtherKey;
        }
    }

    /// <summary>
    /// True when the signature is a well-formed PKCS#1 v1.5 SHA-256 signature by this public key, whatever it signed:
    /// undoing the RSA operation with the public key must give the exact padding and DigestInfo a signer makes. Only
    /// the key's holder can produce that, so it tells a proof meant for another machine from a proof by another key.
    /// </summary>
    private static bool IsSignatureByKey(RSAParameters key, byte[] signature)
    {
        var length = key.Modulus!.Length;
        var modulus = new BigInteger(key.Modulus, isUnsigned: true, isBigEndian: true);
        var value = new BigInteger(signature, isUnsigned: true, isBigEndian: true);
        if (signature.Length != length || value >= modulus)
        {
            return false;
        }

        var recovered = BigInteger.ModPow(value, new BigInteger(key.Exponent!, isUnsigned: true, isBigEndian: true), modulus).ToByteArray(isUnsigned: true, isBigEndian: true);
        var encoded = new byte[length];
        recovered.CopyTo(encoded, length - recovered.Length);
        var digestStart = length - SHA256.HashSizeInBytes - Sha256DigestInfoPrefix.Length;
        var paddingEnd = digestStart - 1;
        return encoded[0] == 0x00 && encoded[1] == 0x01 && paddingEnd >= 10
            && encoded.AsSpan(2, paddingEnd - 2).IndexOfAnyExcept((byte)0xFF) < 0
            && encoded[paddingEnd] == 0x00
            && encoded.AsSpan(digestStart, Sha256DigestInfoPrefix.Length).SequenceEqual(Sha256DigestInfoPrefix);
    }

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "...";

    private static IResult IdentityError(int status, string code, string message) =>
        Json(new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }, status);

    [GeneratedRegex(@"^/subscriptions/(?<sub>[^/]+)/resourceGroups/(?<rg>[^/]+)/providers/Microsoft\.HybridCompute/machines/(?<name>[^/]+)$", RegexOptions.IgnoreCase)]
    private static partial Regex ResourceIdPattern();

    private sealed record IssuedNonce(string MachineKey, Guid RegistrationId, DateTimeOffset ExpiresAt);

    private enum ProofCheck
    {
        Valid,
        OtherKey,
        OtherMessage,
    }
}

/// <summary>The error codes of the identity service (docs/contracts.md section 2).</summary>
public static class IdentityErrors
{
    public const string InvalidRequest = "InvalidRequest";
    public const string MachineNotFound = "MachineNotFound";
    public const string NoKeyRegistered = "NoKeyRegistered";
    public const string NonceUnknown = "NonceUnknown";
    public const string NonceExpired = "NonceExpired";
    public const string NonceReused = "NonceReused";
    public const string RegistrationUsed = "RegistrationUsed";
    public const string ProofWindowClosed = "ProofWindowClosed";
    public const string KeyMismatch = "KeyMismatch";
    public const string ProofForAnotherMachine = "ProofForAnotherMachine";
}
