using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Arcboard.Sandbox.Azure;

/// <summary>The Entra ID token endpoint, client-credentials flow only, as ClientSecretCredential calls it.</summary>
public sealed partial class AzureCloud
{
    /// <summary>The audience a token is for when none is named: Azure Resource Manager.</summary>
    public const string ArmAudience = "https://management.azure.com";

    // The resource identifiers real ARM accepts as a token's audience (with or without the trailing slash).
    private static readonly string[] ArmAudiences = [ArmAudience, "https://management.core.windows.net"];

    private readonly Dictionary<string, IssuedToken> _tokens = new(StringComparer.Ordinal);
    private int _issuedSinceSweep;
    private SecretsRecorder? _secrets;

    /// <summary>Mints an access token ARM accepts until <paramref name="lifetime"/> has passed (for SANDBOX_ARM_TOKEN).</summary>
    public string IssueToken(TimeSpan lifetime, string audience = ArmAudience)
    {
        // Opaque random strings: nothing in the sandbox may rely on reading a token's content.
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (++_issuedSinceSweep >= 1000)
            {
                _issuedSinceSweep = 0;
                foreach (var expired in _tokens.Where(t => t.Value.ExpiresAt <= now).Select(t => t.Key).ToList())
                {
                    _tokens.Remove(expired);
                }
            }

            _tokens[token] = new IssuedToken(now + lifetime, audience.TrimEnd('/'));
            _secrets?.Add(token);
        }

        return token;
    }

    /// <summary>
    /// From now on, keeps every bearer token issued and every proof signature received, so a leak test can look for
    /// them in what a client wrote. Off unless asked for: a long benchmark would otherwise hoard them.
    /// </summary>
    public SecretsRecorder RecordSecrets()
    {
        lock (_gate)
        {
            return _secrets ??= new SecretsRecorder(_gate);
        }
    }

    /// <summary>The token as issued; null when the sandbox never issued it.</summary>
    private IssuedToken? FindToken(string token)
    {
        lock (_gate)
        {
            return _tokens.GetValueOrDefault(token);
        }
    }

    /// <summary>Whether ARM serves a token issued for this audience: Azure's ARM identifiers, or this endpoint's own URL.</summary>
    private static bool IsArmAudience(string audience, string ownBaseUrl) =>
        ArmAudiences.Contains(audience, StringComparer.OrdinalIgnoreCase) || string.Equals(audience, ownBaseUrl.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);

    private sealed record IssuedToken(DateTimeOffset ExpiresAt, string Audience);

    private void MapTokenEndpoint(IEndpointRouteBuilder routes) =>
        routes.MapPost("/{tenant}/oauth2/v2.0/token", async (HttpContext context, string tenant) =>
        {
            _stats.Record("token", "GetToken");
            context.Response.Headers.CacheControl = "no-store, no-cache";
            if (!context.Request.HasFormContentType)
            {
                return EntraError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.");
            }

            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            if (!string.Equals(tenant, Options.TenantId, StringComparison.OrdinalIgnoreCase))
            {
                return EntraError(400, "invalid_request", 90002, $"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.");
            }

            var grantType = form["grant_type"].ToString();
            if (grantType.Length == 0)
            {
                return EntraError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.");
            }

            if (grantType != "client_credentials")
            {
                return EntraError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
            }

            var clientId = form["client_id"].ToString();
            if (clientId.Length == 0)
            {
                return EntraError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.");
            }

            if (!string.Equals(clientId, Options.ClientId, StringComparison.OrdinalIgnoreCase))
            {
                return EntraError(400, "unauthorized_client", 700016, $"Application with identifier '{clientId}' was not found in the directory '{tenant}'.");
            }

            var secret = form["client_secret"].ToString();
            if (secret.Length == 0)
            {
                return EntraError(401, "invalid_client", 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.");
            }

            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(Options.ClientSecret)))
            {
                // As Entra: the message names the app, never the secret that was sent.
                return EntraError(401, "invalid_client", 7000215, $"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{clientId}'.");
            }

            // The token is for the resource its scope names; ARM checks that audience (Azure's ARM or the sandbox's own URL).
            var scope = form["scope"].ToString();
            if (scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(s => s.EndsWith("/.default", StringComparison.Ordinal)) is not { } resource)
            {
                return EntraError(400, "invalid_scope", 1002012, $"The provided value for scope '{scope}' is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).");
            }

            var lifetime = Options.TokenLifetime;
            var seconds = (long)lifetime.TotalSeconds;
            return Json(new JsonObject
            {
                ["token_type"] = "Bearer",
                ["expires_in"] = seconds,
                ["ext_expires_in"] = seconds,
                ["access_token"] = IssueToken(lifetime, resource[..^"/.default".Length]),
            }, 200);
        });

    private IResult EntraError(int status, string error, int code, string description)
    {
        var traceId = Guid.NewGuid().ToString("D");
        var correlationId = Guid.NewGuid().ToString("D");
        return Json(new JsonObject
        {
            ["error"] = error,
            ["error_description"] = $"AADSTS{code}: {description} Trace ID: {traceId} Correlation ID: {correlationId} Timestamp: {_time.GetUtcNow():yyyy-MM-dd HH:mm:ssZ}",
            ["error_codes"] = new JsonArray(code),
            ["timestamp"] = _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ssZ", CultureInfo.InvariantCulture),
            ["trace_id"] = traceId,
            ["correlation_id"] = correlationId,
        }, status);
    }
}

/// <summary>The secrets a sandbox handed out or received while recording (<see cref="AzureCloud.RecordSecrets"/>).</summary>
public sealed class SecretsRecorder
{
    private readonly Lock _gate;
    private readonly List<string> _seen = [];

    internal SecretsRecorder(Lock gate) => _gate = gate;

    /// <summary>Bearer tokens issued and proof signatures received, in order.</summary>
    public IReadOnlyList<string> Seen
    {
        get
        {
            lock (_gate)
            {
                return _seen.ToList();
            }
        }
    }

    /// <summary>Must be called under the cloud's lock.</summary>
    internal void Add(string secret) => _seen.Add(secret);
}
