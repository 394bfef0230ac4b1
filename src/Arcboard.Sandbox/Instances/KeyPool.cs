using System.Numerics;
using System.Security.Cryptography;

namespace Arcboard.Sandbox.Instances;

/// <summary>
/// Distinct RSA-2048 key pairs at the cost of a multiplication instead of a prime search (~50-100 ms each), so tens of
/// thousands of modelled instances can run <c>genkey</c>. Primes come from real 2048-bit keys (each gives two 1024-bit
/// primes with the top bits set); key k is built from the k-th pair of distinct primes, so no two keys share a modulus.
/// n primes give n(n-1)/2 keys; more primes are made when the pairs run out.
/// </summary>
public sealed class KeyPool
{
    private const int ModulusBytes = 256;
    private const int HalfBytes = 128;
    private static readonly BigInteger PublicExponent = 65537;
    private static readonly byte[] PublicExponentBytes = [0x01, 0x00, 0x01];

    private readonly Lock _lock = new();
    private readonly List<BigInteger> _primes = [];
    private readonly System.Collections.Concurrent.ConcurrentQueue<RSAParameters> _ready = new();

    /// <summary>
    /// One pool for the process: primes are the slow part, and every sandbox started in the process (tests start many)
    /// then hands out keys that differ from all the others.
    /// </summary>
    public static KeyPool Shared { get; } = new();

    // The next pair: _second indexes the newer prime, _first runs over all the older ones.
    private int _first;
    private int _second = 1;

    /// <summary>How many keys have been handed out.</summary>
    public long Issued { get; private set; }

    /// <summary>Primes made so far.</summary>
    public int PrimeCount
    {
        get { lock (_lock) { return _primes.Count; } }
    }

    /// <summary>Makes enough primes up front for <paramref name="keys"/> more keys, spread over the cores.</summary>
    public void Prepare(int keys)
    {
        long wanted;
        lock (_lock)
        {
            wanted = Issued + keys;
        }

        var needed = 2;
        while ((long)needed * (needed - 1) / 2 < wanted)
        {
            needed++;
        }

        int missing;
        lock (_lock)
        {
            missing = needed - _primes.Count;
        }

        if (missing <= 0)
        {
            return;
        }

        var made = new BigInteger[(missing + 1) / 2][];
        Parallel.For(0, made.Length, i => made[i] = MakePrimes());
        lock (_lock)
        {
            foreach (var pair in made)
            {
                _primes.AddRange(pair);
            }
        }
    }

    /// <summary>
    /// Builds <paramref name="keys"/> key pairs now, in parallel, for <see cref="Next"/> to hand out: a fleet of modelled
    /// instances then spends no CPU on key arithmetic while it is being measured, as real instances make their keys on
    /// their own processors.
    /// </summary>
    public void Prebuild(int keys)
    {
        if (keys <= 0)
        {
            return;
        }

        Prepare(keys);
        var pairs = new (BigInteger P, BigInteger Q)[keys];
        lock (_lock)
        {
            for (var i = 0; i < keys; i++)
            {
                pairs[i] = NextPair();
            }
        }

        var built = new RSAParameters?[keys];
        Parallel.For(0, keys, i => built[i] = Build(pairs[i].P, pairs[i].Q));
        foreach (var parameters in built)
        {
            if (parameters is { } ready)
            {
                _ready.Enqueue(ready);
            }
        }
    }

    /// <summary>A new key pair, different from every other this pool gave; the caller disposes it.</summary>
    public RSA Next()
    {
        while (true)
        {
            if (!_ready.TryDequeue(out var parameters))
            {
                BigInteger p, q;
                lock (_lock)
                {
                    (p, q) = NextPair();
                }

                if (Build(p, q) is not { } built)
                {
                    continue;
                }

                parameters = built;
            }

            var rsa = RSA.Create();
            rsa.ImportParameters(parameters);
            lock (_lock)
            {
                Issued++;
            }

            return rsa;
        }
    }

    /// <summary>The next unused pair of distinct primes; the caller holds the lock.</summary>
    private (BigInteger P, BigInteger Q) NextPair()
    {
        while (_primes.Count <= _second)
        {
            _primes.AddRange(MakePrimes());
        }

        var pair = (_primes[_second], _primes[_first]);
        _first++;
        if (_first == _second)
        {
            _first = 0;
            _second++;
        }

        return pair;
    }

    /// <summary>The private key of primes p and q with e = 65537, or null when they do not make an exact RSA-2048 key.</summary>
    public static RSAParameters? Build(BigInteger p, BigInteger q)
    {
        if (p == q)
        {
            return null;
        }

        var n = p * q;
        if (n.GetBitLength() != ModulusBytes * 8)
        {
            return null;
        }

        var phi = (p - 1) * (q - 1);
        if (BigInteger.GreatestCommonDivisor(PublicExponent, phi) != 1)
        {
            return null;
        }

        var d = InverseOfPublicExponent(phi);
        return new RSAParameters
        {
            Modulus = ToBytes(n, ModulusBytes),
            Exponent = PublicExponentBytes,
            D = ToBytes(d, ModulusBytes),
            P = ToBytes(p, HalfBytes),
            Q = ToBytes(q, HalfBytes),
            DP = ToBytes(d % (p - 1), HalfBytes),
            DQ = ToBytes(d % (q - 1), HalfBytes),
            InverseQ = ToBytes(ModInverse(q, p), HalfBytes),
        };
    }

    /// <summary>
    /// e⁻¹ mod φ without a long extended Euclid on 2048-bit numbers: d = (1 + kφ) / e for the k in [1, e) that makes the
    /// division exact, i.e. k ≡ -φ⁻¹ (mod e), found with e's small arithmetic. One multiplication and one division.
    /// </summary>
    private static BigInteger InverseOfPublicExponent(BigInteger phi)
    {
        const long E = 65537;
        var phiModE = (long)(phi % E);
        var k = (E - (long)ModInverse(phiModE, E)) % E;
        var d = BigInteger.DivRem(BigInteger.One + (k * phi), E, out var remainder);
        return remainder.IsZero ? d : throw new InvalidOperationException("e⁻¹ mod φ: the division was not exact.");
    }

    /// <summary>x with a·x ≡ 1 (mod m), for a coprime with m (extended Euclid).</summary>
    public static BigInteger ModInverse(BigInteger a, BigInteger m)
    {
        BigInteger oldR = a % m, r = m, oldS = 1, s = 0;
        while (r != 0)
        {
            var quotient = oldR / r;
            (oldR, r) = (r, oldR - (quotient * r));
            (oldS, s) = (s, oldS - (quotient * s));
        }

        if (oldR != 1)
        {
            throw new ArgumentException("The value has no inverse modulo m: they share a factor.", nameof(a));
        }

        return ((oldS % m) + m) % m;
    }

    private static BigInteger[] MakePrimes()
    {
        using var rsa = RSA.Create(2048);
        var parameters = rsa.ExportParameters(includePrivateParameters: true);
        return [FromBytes(parameters.P!), FromBytes(parameters.Q!)];
    }

    private static BigInteger FromBytes(byte[] bytes) => new(bytes, isUnsigned: true, isBigEndian: true);

    // RSAParameters wants big-endian arrays of exact lengths: the modulus and D as long as the modulus, the rest half that.
    private static byte[] ToBytes(BigInteger value, int length)
    {
        var raw = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        if (raw.Length == length)
        {
            return raw;
        }

        var padded = new byte[length];
        raw.CopyTo(padded, length - raw.Length);
        return padded;
    }
}
