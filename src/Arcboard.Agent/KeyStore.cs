using System.Security.Cryptography;

namespace Arcboard.Agent;

/// <summary>The saved private key (genPrivateKey.pem): PKCS#1 PEM, readable by its owner only.</summary>
internal static class KeyStore
{
    /// <summary>The PEM label of a PKCS#1 private key, the only form the real agent saves and accepts.</summary>
    public const string PemLabel = "RSA PRIVATE KEY";

    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static void Save(string path, RSA rsa)
    {
        var directory = Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            // The certs folder holds a private key: owner-only from the moment it exists.
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        // A fresh temp file created with 0600 (never a chmod after the fact, which would leave a window
        // where the key is readable), then renamed over any older key.
        var temp = Path.Combine(directory, $".genPrivateKey.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerReadWrite;
        }

        try
        {
            using (var stream = new FileStream(temp, options))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(PemEncoding.Write(PemLabel, rsa.ExportRSAPrivateKey()));
                writer.Write('\n');
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>The saved key, or null when there is none.</summary>
    public static RSA? Load(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var pem = File.ReadAllText(path);
        if (!pem.Contains($"-----BEGIN {PemLabel}-----", StringComparison.Ordinal))
        {
            throw new AgentException(ExitCodes.RsaKeyError, $"The saved private key {path} is not a PKCS#1 RSA private key.");
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return rsa;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
            throw new AgentException(ExitCodes.RsaKeyError, $"The saved private key {path} cannot be read.");
        }
    }

    /// <summary>A key given inline: base64 of PKCS#1 RSAPrivateKey DER. PKCS#8 is refused, as by the real agent.</summary>
    public static RSA ParseInline(string base64)
    {
        byte[] der;
        try
        {
            der = Convert.FromBase64String(base64.Trim());
        }
        catch (FormatException)
        {
            throw new AgentException(ExitCodes.InvalidArgument, "--private-key must be base64 of a PKCS#1 RSA private key.");
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportRSAPrivateKey(der, out var read);
            if (read != der.Length)
            {
                throw new CryptographicException("trailing data");
            }

            return rsa;
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
            throw new AgentException(ExitCodes.InvalidArgument, "--private-key must be base64 of a PKCS#1 RSA private key (PKCS#8 is not accepted).");
        }
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
