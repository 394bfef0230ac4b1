using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Arcboard.Sandbox.Aws;

/// <summary>The parsed <c>Authorization</c> header of a SigV4 request.</summary>
public sealed record SigV4Authorization(string AccessKeyId, string Date, string Region, string Service, IReadOnlyList<string> SignedHeaders, string Signature)
{
    public string Scope => $"{Date}/{Region}/{Service}/aws4_request";

    public static SigV4Authorization? Parse(string? header)
    {
        const string prefix = "AWS4-HMAC-SHA256 ";
        if (header is null || !header.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        string? credential = null, signedHeaders = null, signature = null;
        foreach (var part in header[prefix.Length..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                continue;
            }

            var value = part[(eq + 1)..];
            switch (part[..eq])
            {
                case "Credential": credential = value; break;
                case "SignedHeaders": signedHeaders = value; break;
                case "Signature": signature = value; break;
            }
        }

        var scope = credential?.Split('/');
        if (scope is not { Length: 5 } || scope[4] != "aws4_request" || signedHeaders is null || signature is null)
        {
            return null;
        }

        return new SigV4Authorization(scope[0], scope[1], scope[2], scope[3], signedHeaders.Split(';'), signature);
    }
}

/// <summary>
/// Verifies AWS Signature Version 4 the way AWS does: rebuilds the canonical request from what arrived, derives the
/// signing key from the secret and the credential scope, and compares signatures in constant time.
/// </summary>
public static class SigV4Verifier
{
    /// <summary>Requests signed further than this from the server's clock are refused, as AWS does.</summary>
    public static readonly TimeSpan AllowedSkew = TimeSpan.FromMinutes(15);

    public enum Result
    {
        Valid,
        SignatureMismatch,
        Expired,
        Malformed,
    }

    public static Result Verify(HttpRequest request, byte[] body, SigV4Authorization auth, string secretAccessKey, DateTimeOffset now)
    {
        var amzDate = request.Headers["x-amz-date"].ToString();
        if (amzDate.Length == 0)
        {
            amzDate = request.Headers.Date.ToString();
        }

        if (!DateTimeOffset.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var signedAt)
            || !amzDate.StartsWith(auth.Date, StringComparison.Ordinal))
        {
            return Result.Malformed;
        }

        if ((now - signedAt).Duration() > AllowedSkew)
        {
            return Result.Expired;
        }

        var canonical = CanonicalRequest(request, body, auth.SignedHeaders);
        var stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{auth.Scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = SigningKey(secretAccessKey, auth.Date, auth.Region, auth.Service);
        var expected = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(auth.Signature.ToLowerInvariant()))
            ? Result.Valid
            : Result.SignatureMismatch;
    }

    public static byte[] SigningKey(string secret, string date, string region, string service)
    {
        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secret), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(key, "aws4_request"u8.ToArray());
    }

    public static string CanonicalRequest(HttpRequest request, byte[] body, IReadOnlyList<string> signedHeaders)
    {
        var builder = new StringBuilder();
        builder.Append(request.Method).Append('\n');

        // The path as sent is already encoded once; non-S3 services encode each segment again.
        var rawPath = (request.PathBase + request.Path).ToUriComponent();
        if (rawPath.Length == 0)
        {
            rawPath = "/";
        }

        builder.Append(string.Join('/', rawPath.Split('/').Select(segment => UriEncode(segment)))).Append('\n');

        var query = new List<(string Key, string Value)>();
        foreach (var pair in request.QueryString.Value?.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries) ?? [])
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString((eq < 0 ? pair : pair[..eq]).Replace('+', ' '));
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
            query.Add((UriEncode(name), UriEncode(value)));
        }

        builder.Append(string.Join('&', query.OrderBy(q => q.Key, StringComparer.Ordinal).ThenBy(q => q.Value, StringComparer.Ordinal).Select(q => $"{q.Key}={q.Value}"))).Append('\n');

        foreach (var name in signedHeaders)
        {
            var values = name == "host" ? request.Host.Value ?? "" : string.Join(',', request.Headers[name].Select(v => CollapseSpaces(v ?? "")));
            builder.Append(name).Append(':').Append(values).Append('\n');
        }

        builder.Append('\n').Append(string.Join(';', signedHeaders)).Append('\n');
        // Always the hash of the body that arrived, never the x-amz-content-sha256 header: trusting the header would
        // let a tampered body ride on a signature made for the original one.
        builder.Append(Hex(SHA256.HashData(body)));
        return builder.ToString();
    }

    private static string CollapseSpaces(string value)
    {
        var trimmed = value.Trim();
        var builder = new StringBuilder(trimmed.Length);
        var lastWasSpace = false;
        foreach (var c in trimmed)
        {
            if (c == ' ')
            {
                if (!lastWasSpace)
                {
                    builder.Append(c);
                }

                lastWasSpace = true;
            }
            else
            {
                builder.Append(c);
                lastWasSpace = false;
            }
        }

        return builder.ToString();
    }

    public static string UriEncode(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.' or '~')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    public static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
