using System.Net;
using System.Net.Security;
using Arcboard.Sandbox.Admin;
using Arcboard.Sandbox.Realism;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Arcboard.Sandbox.Azure;

/// <summary>
/// The Azure side alone on https://127.0.0.1:{random port}: what the Azure tests start, and a model of how the
/// full sandbox host composes <see cref="AzureCloud"/> with Kestrel.
/// </summary>
public sealed class AzureSandboxServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly bool _ownsCertificate;

    private AzureSandboxServer(WebApplication app, AzureCloud cloud, SandboxCertificate certificate, bool ownsCertificate, SandboxStats stats, Uri baseAddress)
    {
        _app = app;
        _ownsCertificate = ownsCertificate;
        Cloud = cloud;
        Certificate = certificate;
        Stats = stats;
        BaseAddress = baseAddress;
    }

    public AzureCloud Cloud { get; }

    public SandboxCertificate Certificate { get; }

    public SandboxStats Stats { get; }

    /// <summary>The listener's base, with a trailing slash: ARM, the token endpoint and the identity service all live here.</summary>
    public Uri BaseAddress { get; }

    /// <param name="certificate">A certificate to serve (left to the caller to dispose); by default a fresh one the server owns.</param>
    /// <param name="realism">Latency, quotas and faults for ARM and the identity service; by default none.</param>
    public static async Task<AzureSandboxServer> StartAsync(
        AzureCloudOptions? options = null, TimeProvider? time = null, SandboxCertificate? certificate = null, SandboxRealism? realism = null, CancellationToken cancellationToken = default)
    {
        var stats = new SandboxStats();
        var cloud = new AzureCloud(options ?? new AzureCloudOptions(), stats, time ?? TimeProvider.System, realism);
        var ownsCertificate = certificate is null;
        certificate ??= SandboxCertificate.Create(time);
        try
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrelHttpsConfiguration();
            builder.WebHost.ConfigureKestrel(kestrel =>
                kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate.Certificate)));
            var app = builder.Build();
            cloud.MapEndpoints(app);
            await app.StartAsync(cancellationToken);

            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new AzureSandboxServer(app, cloud, certificate, ownsCertificate, stats, new Uri(address.TrimEnd('/') + "/"));
        }
        catch
        {
            if (ownsCertificate)
            {
                certificate.Dispose();
            }

            throw;
        }
    }

    /// <summary>A handler that trusts exactly the sandbox certificate and nothing else, not even the system store.</summary>
    public static SocketsHttpHandler CreatePinnedHandler(SandboxCertificate certificate) => new()
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, presented, _, _) => certificate.Matches(presented),
        },
    };

    /// <summary>An HttpClient on <see cref="BaseAddress"/> that trusts the sandbox certificate.</summary>
    public HttpClient CreateClient() => new(CreatePinnedHandler(Certificate), disposeHandler: true) { BaseAddress = BaseAddress };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownsCertificate)
        {
            Certificate.Dispose();
        }
    }
}
