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
/// machine's clientPublicKey can connect it, and a captured proof cannot be replayed.
/// </summary>
public sealed partial class AzureCloud
{
    private const string ProofDomain = "arcboard-proof-v1";

    private readonly Dictionary<string, IssuedNonce> _nonces = new(StringComparer.Ordinal);

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
            return IdentityError(400, "InvalidRequest", "The body must be a JSON object with a resourceId.");
        }

        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (FindForIdentity(resourceId, vmId) is not { } key)
            {
                return IdentityError(404, "MachineNotFound", "No machine has this resource id and vmId.");
            }

            // Expired nonces are dropped here so a fleet that never finishes its exchanges cannot grow the table forever.
            foreach (var stale in _nonces.Where(n => n.Value.ExpiresAt <= now).Select(n => n.Key).ToList())
            {
                _nonces.Remove(stale);
            }

            var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            var expiresAt = now + Options.NonceLifetime;
            _nonces[nonce] = new IssuedNonce(key, expiresAt);
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
            return IdentityError(400, "InvalidRequest", "The body must be a JSON object with resourceId, nonce and signature.");
        }

        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (FindForIdentity(resourceId, vmId) is not { } key)
            {
                return IdentityError(404, "MachineNotFound", "No machine has this resource id and vmId.");
            }

            // Single use: a nonce is spent by the first proof that presents it, whatever the outcome, so a failed
            // guess cannot be retried against the same challenge.
            if (!_nonces.Remove(nonce, out var issued) || issued.MachineKey != key)
            {
                return IdentityError(400, "NonceUnknown", "The nonce was not issued for this machine or has already been used.");
            }

            if (issued.ExpiresAt <= now)
            {
                return IdentityError(400, "NonceExpired", "The nonce has expired; ask for a new challenge.");
            }

            var machine = _machines[key];
            if (!Verifies(machine, nonce, signatureText))
            {
                return IdentityError(401, "InvalidProof", "The signature does not verify against the machine's clientPublicKey.");
            }

            var osType = GetString(body, "osType")?.ToLowerInvariant();
            var hostname = GetString(body, "hostname");
            if (machine.Status != "Connected")
            {
                machine.LastStatusChange = now;
            }

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

    private static bool Verifies(MachineState machine, string nonce, string signatureText)
    {
        if (machine.ClientPublicKey is null)
        {
            return false;
        }

        try
        {
            var signature = Convert.FromBase64String(signatureText);
            using var rsa = RSA.Create();
            rsa.ImportRSAPublicKey(Convert.FromBase64String(machine.ClientPublicKey), out _);
            var payload = Encoding.UTF8.GetBytes($"{ProofDomain}\n{machine.Id.ToLowerInvariant()}\n{machine.VmId.ToString("D").ToLowerInvariant()}\n{nonce}");
            return rsa.VerifyData(payload, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            return false;
        }
    }

    private static IResult IdentityError(int status, string code, string message) =>
        Json(new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }, status);

    [GeneratedRegex(@"^/subscriptions/(?<sub>[^/]+)/resourceGroups/(?<rg>[^/]+)/providers/Microsoft\.HybridCompute/machines/(?<name>[^/]+)$", RegexOptions.IgnoreCase)]
    private static partial Regex ResourceIdPattern();

    private sealed record IssuedNonce(string MachineKey, DateTimeOffset ExpiresAt);
}
