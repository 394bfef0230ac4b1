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
    private readonly Dictionary<string, DateTimeOffset> _tokens = new(StringComparer.Ordinal);
    private int _issuedSinceSweep;

    /// <summary>Mints an access token ARM accepts until <paramref name="lifetime"/> has passed (for SANDBOX_ARM_TOKEN).</summary>
    public string IssueToken(TimeSpan lifetime)
    {
        // Opaque random strings: nothing in the sandbox may rely on reading a token's content.
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (++_issuedSinceSweep >= 1000)
            {
                _issuedSinceSweep = 0;
                foreach (var expired in _tokens.Where(t => t.Value <= now).Select(t => t.Key).ToList())
                {
                    _tokens.Remove(expired);
                }
            }

            _tokens[token] = now + lifetime;
        }

        return token;
    }

    /// <summary>When the token expires; null when the sandbox never issued it.</summary>
    private DateTimeOffset? TokenExpiry(string token)
    {
        lock (_gate)
        {
            return _tokens.TryGetValue(token, out var expiry) ? expiry : null;
        }
    }

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

            // The audience is not enforced by ARM here: a connector may name the sandbox's own ARM URL as its scope.
            var scope = form["scope"].ToString();
            if (!scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(s => s.EndsWith("/.default", StringComparison.Ordinal)))
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
                ["access_token"] = IssueToken(lifetime),
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
