using System.Security.Cryptography;

namespace Arcboard.Core.Scripts;

/// <summary>
/// Checks that what an instance printed as its public key is one: base64 of a PKCS#1 RSAPublicKey DER, RSA with a
/// modulus of at least 2048 bits, nothing trailing. Whatever an instance prints is untrusted input.
/// </summary>
public static class PublicKeyValidator
{
    public const int MinimumKeySizeBits = 2048;

    // A 16384-bit key is far beyond anything azcmagent makes; the cap keeps garbage from costing real work.
    private const int MaximumEncodedLength = 4096;

    public static PublicKeyCheck Validate(string? encoded)
    {
        if (string.IsNullOrWhiteSpace(encoded))
        {
            return PublicKeyCheck.Invalid("the instance printed no public key");
        }

        var text = encoded.Trim();
        if (text.Length > MaximumEncodedLength)
        {
            return PublicKeyCheck.Invalid($"the printed public key is {text.Length} characters long, more than any RSA key azcmagent makes");
        }

        if (text.StartsWith("-----BEGIN", StringComparison.Ordinal))
        {
            return PublicKeyCheck.Invalid("the instance printed a PEM block; azcmagent genkey prints base64 of a PKCS#1 RSAPublicKey");
        }

        var buffer = new byte[text.Length];
        if (!Convert.TryFromBase64String(text, buffer, out var length))
        {
            return PublicKeyCheck.Invalid("the printed public key is not valid base64");
        }

        var der = buffer.AsSpan(0, length);
        using var rsa = RSA.Create();
        try
        {
            rsa.ImportRSAPublicKey(der, out var consumed);
            if (consumed != der.Length)
            {
                return PublicKeyCheck.Invalid("the printed public key has trailing bytes after the RSAPublicKey structure");
            }
        }
        catch (CryptographicException)
        {
            return PublicKeyCheck.Invalid("the printed public key is not a PKCS#1 RSAPublicKey (an SPKI or other encoding is not accepted)");
        }

        if (rsa.KeySize < MinimumKeySizeBits)
        {
            return PublicKeyCheck.Invalid($"the public key is RSA {rsa.KeySize} bits; at least {MinimumKeySizeBits} are required");
        }

        var canonical = Convert.ToBase64String(rsa.ExportRSAPublicKey());
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(rsa.ExportRSAPublicKey()));
        return new PublicKeyCheck(true, canonical, fingerprint, rsa.KeySize, null);
    }
}

/// <summary>The result of <see cref="PublicKeyValidator.Validate"/>: the key in canonical form and its SHA-256 fingerprint, or why it was refused.</summary>
public sealed record PublicKeyCheck(bool IsValid, string? PublicKey, string? Fingerprint, int KeySizeBits, string? Problem)
{
    public static PublicKeyCheck Invalid(string problem) => new(false, null, null, 0, problem);
}
