using System.Numerics;
using System.Security.Cryptography;
using Arcboard.Core.Scripts;
using Arcboard.Sandbox.Instances;

namespace Arcboard.Sandbox.Tests.Instances;

public sealed class KeyPoolTests
{
    // 8 primes give 28 keys: enough to see pairing across several primes without spending seconds on prime searches.
    private const int Keys = 28;

    [Fact]
    public void Pool_keys_are_distinct_rsa_2048_keys_that_sign_and_verify()
    {
        var pool = new KeyPool();
        var moduli = new HashSet<string>(StringComparer.Ordinal);
        var data = "arcboard-proof-v1\nresource\nvm\nnonce"u8.ToArray();
        for (var i = 0; i < Keys; i++)
        {
            using var key = pool.Next();
            key.KeySize.ShouldBe(2048);
            var parameters = key.ExportParameters(includePrivateParameters: false);
            parameters.Exponent.ShouldBe(new byte[] { 1, 0, 1 });
            moduli.Add(Convert.ToHexString(parameters.Modulus!)).ShouldBeTrue($"key {i} repeats an earlier modulus");

            var signature = key.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var verifier = RSA.Create();
            verifier.ImportRSAPublicKey(key.ExportRSAPublicKey(), out _);
            verifier.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).ShouldBeTrue();
            verifier.VerifyData("tampered"u8.ToArray(), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).ShouldBeFalse();

            // The same strict check the connector applies to what genkey prints.
            var check = PublicKeyValidator.Validate(Convert.ToBase64String(key.ExportRSAPublicKey()));
            check.IsValid.ShouldBeTrue(check.Problem);
            check.KeySizeBits.ShouldBe(2048);
        }

        pool.PrimeCount.ShouldBe(8);
        pool.Issued.ShouldBe(Keys);
    }

    [Fact]
    public void Pool_keys_survive_a_pkcs1_pem_round_trip_as_the_agent_saves_them()
    {
        var pool = new KeyPool();
        using var key = pool.Next();
        using var reloaded = RSA.Create();
        reloaded.ImportFromPem(key.ExportRSAPrivateKeyPem());
        var data = new byte[] { 1, 2, 3 };
        var signature = reloaded.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        key.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).ShouldBeTrue();
    }

    [Fact]
    public void Mod_inverse_inverts_and_refuses_shared_factors()
    {
        var m = BigInteger.Parse("1000000007", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var a in new BigInteger[] { 2, 65537, 123456789, m - 1 })
        {
            (a * KeyPool.ModInverse(a, m) % m).ShouldBe(BigInteger.One);
        }

        Should.Throw<ArgumentException>(() => KeyPool.ModInverse(6, 9));
    }

    [Fact]
    public void Primes_that_do_not_make_an_exact_2048_bit_modulus_are_skipped()
    {
        using var rsa = RSA.Create(2048);
        var parameters = rsa.ExportParameters(true);
        var p = new BigInteger(parameters.P!, isUnsigned: true, isBigEndian: true);
        var q = new BigInteger(parameters.Q!, isUnsigned: true, isBigEndian: true);
        KeyPool.Build(p, p).ShouldBeNull();
        KeyPool.Build(p, 65537).ShouldBeNull();
        var built = KeyPool.Build(p, q);
        built.ShouldNotBeNull();
        built.Value.Modulus.ShouldBe(parameters.Modulus);
    }
}
