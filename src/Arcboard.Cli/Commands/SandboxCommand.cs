using System.CommandLine;
using Arcboard.Sandbox.Fleet;
using Arcboard.Sandbox.Hosting;
using Arcboard.Sandbox.Instances;
using Arcboard.Sandbox.Realism;

namespace Arcboard.Cli.Commands;

/// <summary><c>arcboard sandbox serve</c>: local AWS, Azure and a fleet of instances, until stopped.</summary>
internal static class SandboxCommand
{
    public static Command Create(CliConsole console)
    {
        var fleet = new Option<FileInfo?>("--fleet") { Description = "A fleet file (JSON or YAML; see docs/contracts.md). Without it a fleet is generated." };
        var instances = new Option<int>("--instances") { Description = "How many instances to generate.", DefaultValueFactory = _ => 20 };
        var seed = new Option<int>("--seed") { Description = "Seed of the generated fleet: the same seed gives the same fleet.", DefaultValueFactory = _ => 1 };
        var writeConfig = new Option<FileInfo?>("--write-config") { Description = "Write an Arcboard configuration pointing at this sandbox to FILE." };
        var writeEnv = new Option<FileInfo?>("--write-env") { Description = "Write shell variables (SANDBOX_*) for other tools to FILE." };
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = "Folder for instance roots and the CA certificate; a fresh temporary folder by default." };
        var awsPort = new Option<int>("--aws-port") { Description = "HTTP port for AWS and the admin surface (0 = any free port)." };
        var httpsPort = new Option<int>("--https-port") { Description = "HTTPS port for Azure (0 = any free port)." };
        var profile = new Option<string>("--profile")
        {
            Description = "Latencies and quotas: instant (none, the default), realistic (the real services' quotas and latencies), compressed (realistic on a 10x faster clock). See docs/sandbox-profiles.md.",
            DefaultValueFactory = _ => SandboxProfile.InstantName,
        };
        profile.AcceptOnlyFromAmong([.. SandboxProfile.Names]);
        var timeScale = new Option<double?>("--time-scale") { Description = "Run the realistic values on a clock X times faster than real time (X > 0); with --profile realistic or compressed." };
        var faults = new Option<string?>("--faults") { Description = "HTTP faults from the start, KIND=RATE,...: for example arm-5xx=0.05,ssm-throttling=0.05. Kinds: " + string.Join(", ", HttpFaultKinds.All) + "." };
        var instanceMode = new Option<InstanceMode>("--instance-mode") { Description = "process runs scripts with /bin/sh and hosted PowerShell (correctness); modelled runs Arcboard's scripts as a model with the agent in-process (10,000+ instances).", DefaultValueFactory = _ => InstanceMode.Process };
        instances.InRange(0, 100_000);
        seed.InRange(0, int.MaxValue);
        timeScale.Positive();
        instanceMode.OneOf(InstanceMode.Process, InstanceMode.Process, InstanceMode.Modelled);
        awsPort.InRange(0, 65535);
        httpsPort.InRange(0, 65535);

        var serve = new Command("serve", "Run the sandbox: AWS (SSM, EC2, STS) over HTTP, Azure (ARM, token, identity) over HTTPS, and simulated instances, on loopback until Ctrl+C.")
        {
            fleet, instances, seed, writeConfig, writeEnv, dataDir, awsPort, httpsPort, profile, timeScale, faults, instanceMode,
        };
        serve.SetAction(async (parse, cancellationToken) =>
        {
            SandboxProfile chosenProfile;
            IReadOnlyList<(string Kind, double Rate)> startFaults;
            try
            {
                chosenProfile = SandboxProfile.Resolve(parse.GetValue(profile) ?? SandboxProfile.InstantName, parse.GetValue(timeScale));
                startFaults = parse.GetValue(faults) is { } spec ? HttpFaults.ParseRates(spec) : [];
            }
            catch (SandboxConfigurationException error)
            {
                await console.Error.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrConfiguration;
            }

            var options = new SandboxOptions
            {
                Profile = chosenProfile,
                HttpFaults = startFaults,
                FleetFile = parse.GetValue(fleet)?.FullName,
                Instances = parse.GetValue(instances),
                Seed = parse.GetValue(seed),
                DataDirectory = parse.GetValue(dataDir)?.FullName,
                AwsPort = parse.GetValue(awsPort),
                HttpsPort = parse.GetValue(httpsPort),
                InstanceMode = parse.GetValue(instanceMode),
            };
            SandboxHost host;
            try
            {
                host = await SandboxHost.StartAsync(options, cancellationToken).ConfigureAwait(false);
            }
            catch (SandboxConfigurationException error)
            {
                await console.Error.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrConfiguration;
            }

            await using (host.ConfigureAwait(false))
            {
                if (parse.GetValue(writeConfig) is { } configFile)
                {
                    await host.WriteConfigFileAsync(configFile.FullName, "arcboard.db", cancellationToken).ConfigureAwait(false);
                    await console.Error.WriteLineAsync($"wrote connector configuration to {configFile.FullName}").ConfigureAwait(false);
                }

                if (parse.GetValue(writeEnv) is { } envFile)
                {
                    await host.WriteEnvFileAsync(envFile.FullName, cancellationToken).ConfigureAwait(false);
                    await console.Error.WriteLineAsync($"wrote environment to {envFile.FullName}").ConfigureAwait(false);
                }

                var e = host.Endpoints;
                await console.Error.WriteLineAsync($"""
                    sandbox ready: {host.Fleet.Instances.Count} instances in accounts {string.Join(", ", e.AccountIds)}
                      AWS (SSM, EC2, STS)  {e.AwsEndpoint}
                      Azure ARM            {e.ArmEndpoint}
                      CA certificate       {e.CaCertificatePath}
                      admin                {e.AdminUrl}
                      data                 {host.DataDirectory}
                      profile              {host.Profile.Name}{(startFaults.Count > 0 ? ", faults " + string.Join(", ", startFaults.Select(f => f.Kind + "=" + f.Rate.ToString(System.Globalization.CultureInfo.InvariantCulture))) : "")}
                    Ctrl+C to stop.
                    """).ConfigureAwait(false);
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    await console.Error.WriteLineAsync("sandbox stopping").ConfigureAwait(false);
                }
            }

            return ExitCodes.Success;
        });

        return new Command("sandbox", "The local stand-in for AWS, Azure and a fleet of EC2 instances.") { serve };
    }
}
