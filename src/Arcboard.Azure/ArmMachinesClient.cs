using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Arcboard.Core.Cloud;
using Arcboard.Core.Cloud.Pacing;
using Arcboard.Core.Configuration;
using Arcboard.Core.Fleet;

namespace Arcboard.Azure;

/// <summary>
/// <see cref="IArcMachines"/> as a thin typed client over an Azure.Core <see cref="HttpPipeline"/>
/// (Azure.ResourceManager.HybridCompute is not available). Every non-success becomes a <see cref="CloudException"/>.
/// </summary>
public sealed class ArmMachinesClient : IArcMachines
{
    public const string MachinesApiVersion = "2025-01-13";
    public const string ResourceGroupsApiVersion = "2021-04-01";

    /// <summary>How long a delete may stay in progress before we hand the wait back to the reconciler.</summary>
    public static readonly TimeSpan DeleteTimeout = TimeSpan.FromMinutes(10);

    private static readonly TimeSpan s_defaultPollInterval = TimeSpan.FromSeconds(2);

    private readonly HttpPipeline _pipeline;
    private readonly Uri _armEndpoint;
    private readonly TimeProvider _timeProvider;

    /// <param name="options">The <c>azure</c> section: ARM endpoint and, through <see cref="ArmClientOptions.For"/>, the pinned CA.</param>
    /// <param name="credential">Usually <see cref="AzureCredentialFactory.Create"/>.</param>
    /// <param name="clientOptions">Null means <see cref="ArmClientOptions.For"/>(<paramref name="options"/>).</param>
    /// <param name="timeProvider">Paces polling of long-running deletes.</param>
    /// <param name="quotaFeedback">Hears the remaining-quota headers of every response (usually the <see cref="QuotaGate"/>).</param>
    public ArmMachinesClient(AzureOptions options, TokenCredential credential, ArmClientOptions? clientOptions = null, TimeProvider? timeProvider = null, IQuotaFeedback? quotaFeedback = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        var endpoint = options.ArmEndpoint.TrimEnd('/');
        _armEndpoint = new Uri(endpoint + "/");
        _timeProvider = timeProvider ?? TimeProvider.System;
        clientOptions ??= ArmClientOptions.For(options);
        // Built here, not in the options' constructor, so Retry settings changed after construction still count.
        clientOptions.RetryPolicy ??= new ThrottleAwareRetryPolicy(
            clientOptions.Retry.MaxRetries,
            DelayStrategy.CreateExponentialDelayStrategy(clientOptions.Retry.Delay, clientOptions.Retry.MaxDelay));
        _pipeline = HttpPipelineBuilder.Build(
            clientOptions,
            quotaFeedback is null
                ? [new BearerTokenAuthenticationPolicy(credential, endpoint + "/.default")]
                : [new BearerTokenAuthenticationPolicy(credential, endpoint + "/.default"), new QuotaFeedbackPolicy(quotaFeedback)]);
    }

    /// <summary>
    /// The client for <paramref name="options"/> as the connector runs it: the configured credential, and one transport
    /// (pinned to <see cref="AzureOptions.CaCertificate"/> when set) shared by ARM calls and token requests.
    /// </summary>
    public static ArmMachinesClient Create(AzureOptions options, TimeProvider? timeProvider = null, Func<string, string?>? getEnvironmentVariable = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var transport = PinnedCertificateTransport.Create(options);
        var credential = AzureCredentialFactory.Create(options, getEnvironmentVariable, transport);
        var clientOptions = new ArmClientOptions();
        if (transport is not null)
        {
            clientOptions.Transport = transport;
        }

        return new ArmMachinesClient(options, credential, clientOptions, timeProvider);
    }

    public async Task EnsureResourceGroupAsync(string subscriptionId, string resourceGroup, string location, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        ArgumentException.ThrowIfNullOrEmpty(resourceGroup);
        ArgumentException.ThrowIfNullOrEmpty(location);
        var path = $"subscriptions/{Escape(subscriptionId)}/resourcegroups/{Escape(resourceGroup)}";
        var operation = $"Ensuring resource group {resourceGroup} in subscription {subscriptionId}";

        // GET first: a PUT on an existing group would replace its tags and fails when the location differs.
        using (var get = await SendAsync(RequestMethod.Get, Uri(path, ResourceGroupsApiVersion), null, operation, cancellationToken).ConfigureAwait(false))
        {
            if (get.Status == 200)
            {
                return;
            }

            if (get.Status != 404)
            {
                throw ArmErrors.FromResponse(get, operation, _timeProvider);
            }
        }

        var body = new JsonObject { ["location"] = location };
        using var put = await SendAsync(RequestMethod.Put, Uri(path, ResourceGroupsApiVersion), body, operation, cancellationToken).ConfigureAwait(false);
        if (put.Status is not (200 or 201))
        {
            throw ArmErrors.FromResponse(put, operation, _timeProvider);
        }
    }

    public async Task<ArcMachine?> GetAsync(MachineRef machine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var operation = $"Reading Arc machine {machine.Name} in resource group {machine.ResourceGroup}";
        using var response = await SendAsync(RequestMethod.Get, Uri(MachinePath(machine), MachinesApiVersion), null, operation, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            200 => ParseMachine(response, operation),
            404 => null,
            _ => throw ArmErrors.FromResponse(response, operation, _timeProvider),
        };
    }

    public async Task<ArcMachine> PutAsync(MachineRef machine, MachineSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(spec);
        var operation = $"Creating Arc machine {machine.Name} in resource group {machine.ResourceGroup}";
        using var response = await SendAsync(RequestMethod.Put, Uri(MachinePath(machine), MachinesApiVersion), MachineBody(spec), operation, cancellationToken).ConfigureAwait(false);
        return response.Status is 200 or 201
            ? ParseMachine(response, operation)
            : throw ArmErrors.FromResponse(response, operation, _timeProvider);
    }

    public async Task<IReadOnlyList<ArcMachine>> ListAsync(string subscriptionId, string resourceGroup, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        ArgumentException.ThrowIfNullOrEmpty(resourceGroup);
        var operation = $"Listing Arc machines in resource group {resourceGroup} of subscription {subscriptionId}";
        var result = new List<ArcMachine>();
        Uri? next = Uri($"subscriptions/{Escape(subscriptionId)}/resourceGroups/{Escape(resourceGroup)}/providers/Microsoft.HybridCompute/machines", MachinesApiVersion);
        while (next is not null)
        {
            using var response = await SendAsync(RequestMethod.Get, next, null, operation, cancellationToken).ConfigureAwait(false);
            if (response.Status == 404 && result.Count == 0)
            {
                // ResourceGroupNotFound: nothing was created there yet.
                return result;
            }

            if (response.Status != 200)
            {
                throw ArmErrors.FromResponse(response, operation, _timeProvider);
            }

            var page = ParseObject(response, operation);
            if (page["value"] is JsonArray values)
            {
                foreach (var item in values)
                {
                    if (item is JsonObject machine)
                    {
                        result.Add(ToMachine(machine));
                    }
                }
            }

            next = page["nextLink"] is JsonValue link && link.TryGetValue<string>(out var url) && !string.IsNullOrEmpty(url)
                ? new Uri(url, UriKind.Absolute)
                : null;
        }

        return result;
    }

    public async Task DeleteAsync(MachineRef machine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var operation = $"Deleting Arc machine {machine.Name} in resource group {machine.ResourceGroup}";
        Uri? monitor;
        bool asyncOperation;
        TimeSpan wait;
        using (var response = await SendAsync(RequestMethod.Delete, Uri(MachinePath(machine), MachinesApiVersion), null, operation, cancellationToken).ConfigureAwait(false))
        {
            switch (response.Status)
            {
                case 200 or 204 or 404:
                    return;
                case 202:
                    asyncOperation = response.Headers.TryGetValue("Azure-AsyncOperation", out var aao) && !string.IsNullOrEmpty(aao);
                    monitor = asyncOperation ? new Uri(aao!) : response.Headers.TryGetValue("Location", out var location) && !string.IsNullOrEmpty(location) ? new Uri(location) : null;
                    wait = ArmErrors.RetryAfter(response, _timeProvider) ?? s_defaultPollInterval;
                    break;
                default:
                    throw ArmErrors.FromResponse(response, operation, _timeProvider);
            }
        }

        var pollingMachine = monitor is null;
        // Accepted with nothing to poll: confirm by reading the machine until it is gone.
        monitor ??= Uri(MachinePath(machine), MachinesApiVersion);

        var deadline = _timeProvider.GetUtcNow() + DeleteTimeout;
        while (true)
        {
            if (_timeProvider.GetUtcNow() + wait > deadline)
            {
                throw new CloudException(ArmErrors.Service, "DeleteTimeout", $"{operation}: ARM had not finished after {DeleteTimeout.TotalMinutes:0} minutes; the next pass will check again.", true, wait);
            }

            await Task.Delay(wait, _timeProvider, cancellationToken).ConfigureAwait(false);
            using var poll = await SendAsync(RequestMethod.Get, monitor, null, operation, cancellationToken).ConfigureAwait(false);
            wait = ArmErrors.RetryAfter(poll, _timeProvider) ?? s_defaultPollInterval;
            if (asyncOperation)
            {
                if (poll.Status != 200)
                {
                    throw ArmErrors.FromResponse(poll, operation, _timeProvider);
                }

                var status = String(ParseObject(poll, operation), "status");
                switch (status)
                {
                    case "Succeeded":
                        return;
                    case "Failed" or "Canceled":
                        var (code, message) = ArmErrors.ReadError(poll);
                        throw new CloudException(ArmErrors.Service, code ?? $"Delete{status}", $"{operation}: the operation ended {status}: {message ?? "no details"}.", false, null, 200);
                }
            }
            else if (pollingMachine)
            {
                if (poll.Status == 404)
                {
                    return;
                }

                if (poll.Status != 200)
                {
                    throw ArmErrors.FromResponse(poll, operation, _timeProvider);
                }
            }
            else
            {
                // A Location monitor answers 202 while the operation runs and 200/204 once it is done.
                switch (poll.Status)
                {
                    case 200 or 204 or 404:
                        return;
                    case 202:
                        break;
                    default:
                        throw ArmErrors.FromResponse(poll, operation, _timeProvider);
                }
            }
        }
    }

    private async Task<Response> SendAsync(RequestMethod method, Uri uri, JsonNode? body, string operation, CancellationToken cancellationToken)
    {
        using var request = _pipeline.CreateRequest();
        request.Method = method;
        request.Uri.Reset(uri);
        request.Headers.Add("Accept", "application/json");
        if (body is not null)
        {
            request.Headers.Add("Content-Type", "application/json");
            request.Content = RequestContent.Create(JsonSerializer.SerializeToUtf8Bytes(body));
        }

        try
        {
            // Azure.Core buffers the body, so the response outlives the request.
            return await _pipeline.SendRequestAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            throw ArmErrors.FromException(ex, operation);
        }
    }

    internal static JsonObject MachineBody(MachineSpec spec)
    {
        var tags = new JsonObject();
        foreach (var (key, value) in spec.Tags)
        {
            tags[key] = value;
        }

        return new JsonObject
        {
            ["location"] = spec.Location,
            ["identity"] = new JsonObject { ["type"] = "SystemAssigned" },
            ["kind"] = "AWS",
            ["tags"] = tags,
            ["properties"] = new JsonObject
            {
                ["clientPublicKey"] = spec.ClientPublicKey,
                ["vmId"] = spec.VmId.ToString("D"),
                ["osType"] = spec.OsType == Platform.Windows ? "windows" : "linux",
            },
        };
    }

    private static ArcMachine ParseMachine(Response response, string operation) => ToMachine(ParseObject(response, operation));

    private static JsonObject ParseObject(Response response, string operation)
    {
        try
        {
            return JsonNode.Parse(response.Content.ToMemory().Span) as JsonObject
                ?? throw new CloudException(ArmErrors.Service, "InvalidResponse", $"{operation}: ARM answered {response.Status} with a body that is not a JSON object.", true, null, response.Status);
        }
        catch (JsonException ex)
        {
            throw new CloudException(ArmErrors.Service, "InvalidResponse", $"{operation}: ARM answered {response.Status} with a body that is not JSON.", true, null, response.Status, ex);
        }
    }

    internal static ArcMachine ToMachine(JsonObject json)
    {
        var properties = json["properties"] as JsonObject;
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (json["tags"] is JsonObject tagObject)
        {
            foreach (var (key, value) in tagObject)
            {
                tags[key] = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value?.ToJsonString() ?? "";
            }
        }

        return new ArcMachine(
            String(json, "id") ?? "",
            String(json, "name") ?? "",
            String(json, "location") ?? "",
            String(properties, "status"),
            Guid.TryParse(String(properties, "vmId"), out var vmId) ? vmId : null,
            String(properties, "clientPublicKey"),
            String(properties, "provisioningState"),
            String(properties, "agentVersion"),
            tags);
    }

    private static string? String(JsonObject? json, string name) =>
        json?[name] is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;

    private static string MachinePath(MachineRef machine) =>
        $"subscriptions/{Escape(machine.SubscriptionId)}/resourceGroups/{Escape(machine.ResourceGroup)}/providers/Microsoft.HybridCompute/machines/{Escape(machine.Name)}";

    private Uri Uri(string path, string apiVersion) => new(_armEndpoint, $"{path}?api-version={apiVersion}");

    private static string Escape(string segment) => System.Uri.EscapeDataString(segment);
}
