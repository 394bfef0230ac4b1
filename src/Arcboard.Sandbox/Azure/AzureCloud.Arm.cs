using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Arcboard.Sandbox.Azure;

/// <summary>
/// Azure Resource Manager: resource groups and <c>Microsoft.HybridCompute/machines</c>, with ARM's status codes,
/// error shapes and headers. Route literals match case-insensitively (ASP.NET Core routing), as ARM does.
/// DELETE of an existing machine is long-running: 202 with Location, Azure-AsyncOperation and Retry-After; the
/// machine is gone at once, and the operation reports done after <see cref="AzureCloudOptions.DeletePollsBeforeDone"/>
/// polls. DELETE of a missing machine answers 204, as ARM does.
/// </summary>
public sealed partial class AzureCloud
{
    public const string MachinesApiVersion = "2025-01-13";

    private static readonly string[] MachineApiVersions = [MachinesApiVersion];
    private static readonly string[] ResourceGroupApiVersions = ["2019-10-01", "2020-06-01", "2021-04-01", "2022-09-01", "2023-07-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-04-01"];
    private static readonly string[] Kinds = ["AVS", "HCI", "SCVMM", "VMware", "EPS", "GCP", "AWS"];

    private readonly Dictionary<string, DeleteOperation> _operations = new(StringComparer.OrdinalIgnoreCase);

    private void MapArmEndpoints(IEndpointRouteBuilder routes)
    {
        var subscription = routes.MapGroup("/subscriptions/{subscriptionId}");
        subscription.AddEndpointFilter(ApplyArmRealismAsync);
        const string Group = "/resourcegroups/{resourceGroupName}";
        const string Machines = Group + "/providers/Microsoft.HybridCompute/machines";
        const string Machine = Machines + "/{machineName}";

        subscription.MapPut(Group, PutResourceGroupAsync).WithMetadata(new ArmOperation("PutResourceGroup", Bucket.Writes));
        subscription.MapGet(Group, GetResourceGroup).WithMetadata(new ArmOperation("GetResourceGroup", Bucket.Reads));
        subscription.MapMethods(Group, ["HEAD"], HeadResourceGroup).WithMetadata(new ArmOperation("CheckResourceGroupExistence", Bucket.Reads));
        subscription.MapGet(Machines, ListMachinesInGroup).WithMetadata(new ArmOperation("ListMachinesByResourceGroup", Bucket.Reads));
        subscription.MapGet("/providers/Microsoft.HybridCompute/machines", ListMachinesInSubscription).WithMetadata(new ArmOperation("ListMachinesBySubscription", Bucket.Reads));
        subscription.MapPut(Machine, PutMachineAsync).WithMetadata(new ArmOperation("PutMachine", Bucket.Writes));
        subscription.MapGet(Machine, GetMachine).WithMetadata(new ArmOperation("GetMachine", Bucket.Reads));
        subscription.MapPatch(Machine, PatchMachineAsync).WithMetadata(new ArmOperation("PatchMachine", Bucket.Writes));
        subscription.MapDelete(Machine, DeleteMachine).WithMetadata(new ArmOperation("DeleteMachine", Bucket.Deletes));
        subscription.MapGet("/providers/Microsoft.HybridCompute/locations/{location}/operationStatuses/{operationId}", GetOperationStatus).WithMetadata(new ArmOperation("GetOperationStatus", Bucket.Reads));
        subscription.MapGet("/providers/Microsoft.HybridCompute/locations/{location}/operationResults/{operationId}", GetOperationResult).WithMetadata(new ArmOperation("GetOperationResult", Bucket.Reads));

        // Anything else under /subscriptions is a bug in the caller: a JSON 400 surfaces it, where a bare 404 could be
        // mistaken for "resource absent".
        routes.Map("/subscriptions/{**rest}", (HttpContext context) =>
        {
            _stats.Record("arm", "Unsupported");
            return ArmError(400, "InvalidResourceType", $"The Arcboard sandbox does not serve {context.Request.Method} {context.Request.Path}.", context.Request.Path);
        });
    }

    /// <summary>What <c>az group exists</c> calls: 204 when the group exists, 404 otherwise, no body.</summary>
    private IResult HeadResourceGroup(HttpContext context, string subscriptionId, string resourceGroupName)
    {
        if (Preamble(context, "CheckResourceGroupExistence", subscriptionId, ResourceGroupApiVersions) is { } failure)
        {
            return failure;
        }

        return HasResourceGroup(resourceGroupName) ? Results.NoContent() : Results.NotFound();
    }

    private async Task<IResult> PutResourceGroupAsync(HttpContext context, string subscriptionId, string resourceGroupName)
    {
        if (Preamble(context, "PutResourceGroup", subscriptionId, ResourceGroupApiVersions) is { } failure)
        {
            return failure;
        }

        if (!ResourceGroupNamePattern().IsMatch(resourceGroupName) || resourceGroupName.EndsWith('.'))
        {
            return ArmError(400, "InvalidResourceGroupName", $"The resource group name '{resourceGroupName}' is invalid. It can contain up to 90 letters, digits, '_', '-', '.', '(' or ')' and cannot end with '.'.", resourceGroupName);
        }

        if (await ReadJsonAsync(context.Request) is not JsonObject body)
        {
            return InvalidContent();
        }

        if (NormalizeLocation(GetString(body, "location")) is not { } location)
        {
            return ArmError(400, "LocationRequired", "The location property is required for this definition.", "location");
        }

        if (!TryReadTags(body, out var tags))
        {
            return InvalidContent();
        }

        lock (_gate)
        {
            if (_resourceGroups.TryGetValue(resourceGroupName, out var existing))
            {
                if (existing.Location != location)
                {
                    return ArmError(409, "InvalidResourceGroupLocation", $"Invalid resource group location '{location}'. The Resource group already exists in location '{existing.Location}'.", resourceGroupName);
                }

                if (tags is not null)
                {
                    existing.Tags = tags;
                }

                return Json(existing.ToJson(), 200);
            }

            var created = new ResourceGroupState(Options.SubscriptionId, resourceGroupName, location) { Tags = tags ?? new(StringComparer.Ordinal) };
            _resourceGroups[resourceGroupName] = created;
            return Json(created.ToJson(), 201);
        }
    }

    private IResult GetResourceGroup(HttpContext context, string subscriptionId, string resourceGroupName)
    {
        if (Preamble(context, "GetResourceGroup", subscriptionId, ResourceGroupApiVersions) is { } failure)
        {
            return failure;
        }

        lock (_gate)
        {
            return _resourceGroups.TryGetValue(resourceGroupName, out var group)
                ? Json(group.ToJson(), 200)
                : ResourceGroupNotFound(resourceGroupName);
        }
    }

    private async Task<IResult> PutMachineAsync(HttpContext context, string subscriptionId, string resourceGroupName, string machineName)
    {
        if (Preamble(context, "PutMachine", subscriptionId, MachineApiVersions) is { } failure)
        {
            return failure;
        }

        if (!HasResourceGroup(resourceGroupName))
        {
            return ResourceGroupNotFound(resourceGroupName);
        }

        if (!MachineNamePattern().IsMatch(machineName))
        {
            return InvalidMachineName(machineName);
        }

        if (await ReadJsonAsync(context.Request) is not JsonObject body)
        {
            return InvalidContent();
        }

        if (NormalizeLocation(GetString(body, "location")) is not { } location)
        {
            return ArmError(400, "LocationRequired", "The location property is required for this definition.", "location");
        }

        if (!TryReadTags(body, out var tags))
        {
            return InvalidContent();
        }

        var kind = GetString(body, "kind");
        if (body["kind"] is not null && (kind is null || !Kinds.Contains(kind, StringComparer.OrdinalIgnoreCase)))
        {
            return MissingOrInvalid("Kind", "kind");
        }

        if (!TryReadIdentity(body, out var wantsIdentity))
        {
            return MissingOrInvalid("Identity", "identity");
        }

        var properties = body["properties"] as JsonObject;
        if (body["properties"] is not null && properties is null)
        {
            return InvalidContent();
        }

        var vmIdText = GetString(properties, "vmId");
        var publicKey = GetString(properties, "clientPublicKey");
        if (publicKey is not null && !IsPkcs1PublicKey(publicKey))
        {
            return MissingOrInvalid("ClientPublicKey", "properties.clientPublicKey");
        }

        var osType = GetString(properties, "osType");
        if (osType is not null && !osType.Equals("linux", StringComparison.OrdinalIgnoreCase) && !osType.Equals("windows", StringComparison.OrdinalIgnoreCase))
        {
            return MissingOrInvalid("OsType", "properties.osType");
        }

        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var key = MachineKey(resourceGroupName, machineName);
            if (_machines.TryGetValue(key, out var machine))
            {
                if (machine.Location != location)
                {
                    return ArmError(409, "InvalidResourceLocation", $"The resource '{machineName}' already exists in location '{machine.Location}' in resource group '{resourceGroupName}'. A resource with the same name cannot be created in location '{location}'. Please select a new resource name.", machineName);
                }

                // vmId is settable only at creation; sending the same value again is harmless.
                if (vmIdText is not null && (!Guid.TryParse(vmIdText, out var sent) || sent != machine.VmId))
                {
                    return ArmError(400, "HCRP400", "Missing or invalid properties: VmId. The vmId of an existing machine cannot be changed.", "properties.vmId");
                }

                ApplyWritable(machine, kind, tags ?? new(StringComparer.Ordinal), wantsIdentity, publicKey, osType, now);
                return Json(machine.ToJson(Options.TenantId), 200);
            }

            if (!Guid.TryParse(vmIdText, out var vmId))
            {
                return MissingOrInvalid("VmId", "properties.vmId");
            }

            machine = new MachineState
            {
                SubscriptionId = Options.SubscriptionId,
                ResourceGroup = _resourceGroups[resourceGroupName].Name,
                Name = machineName,
                Location = location,
                VmId = vmId,
                CreatedAt = now,
            };
            ApplyWritable(machine, kind, tags ?? new(StringComparer.Ordinal), wantsIdentity, publicKey, osType, now);
            _machines[key] = machine;
            return Json(machine.ToJson(Options.TenantId), 201);
        }
    }

    private IResult GetMachine(HttpContext context, string subscriptionId, string resourceGroupName, string machineName)
    {
        if (Preamble(context, "GetMachine", subscriptionId, MachineApiVersions) is { } failure)
        {
            return failure;
        }

        lock (_gate)
        {
            if (!_resourceGroups.ContainsKey(resourceGroupName))
            {
                return ResourceGroupNotFound(resourceGroupName);
            }

            return _machines.TryGetValue(MachineKey(resourceGroupName, machineName), out var machine)
                ? Json(machine.ToJson(Options.TenantId), 200)
                : MachineNotFound(resourceGroupName, machineName);
        }
    }

    /// <summary>PATCH updates tags (replaced as a whole when given) and identity; other properties are ignored.</summary>
    private async Task<IResult> PatchMachineAsync(HttpContext context, string subscriptionId, string resourceGroupName, string machineName)
    {
        if (Preamble(context, "PatchMachine", subscriptionId, MachineApiVersions) is { } failure)
        {
            return failure;
        }

        if (await ReadJsonAsync(context.Request) is not JsonObject body || !TryReadTags(body, out var tags))
        {
            return InvalidContent();
        }

        if (!TryReadIdentity(body, out var wantsIdentity))
        {
            return MissingOrInvalid("Identity", "identity");
        }

        lock (_gate)
        {
            if (!_resourceGroups.ContainsKey(resourceGroupName))
            {
                return ResourceGroupNotFound(resourceGroupName);
            }

            if (!_machines.TryGetValue(MachineKey(resourceGroupName, machineName), out var machine))
            {
                return MachineNotFound(resourceGroupName, machineName);
            }

            if (tags is not null)
            {
                machine.Tags = tags;
            }

            if (wantsIdentity is { } wants)
            {
                machine.PrincipalId = wants ? machine.PrincipalId ?? Guid.NewGuid() : null;
            }

            machine.LastModifiedAt = _time.GetUtcNow();
            return Json(machine.ToJson(Options.TenantId), 200);
        }
    }

    private IResult DeleteMachine(HttpContext context, string subscriptionId, string resourceGroupName, string machineName)
    {
        if (Preamble(context, "DeleteMachine", subscriptionId, MachineApiVersions) is { } failure)
        {
            return failure;
        }

        string operationId;
        string location;
        lock (_gate)
        {
            if (!_resourceGroups.ContainsKey(resourceGroupName))
            {
                return ResourceGroupNotFound(resourceGroupName);
            }

            var key = MachineKey(resourceGroupName, machineName);
            if (!_machines.Remove(key, out var machine))
            {
                return Results.NoContent();
            }

            operationId = Guid.NewGuid().ToString("D");
            location = machine.Location;
            // Finished operations are kept an hour for late pollers, then forgotten so the table stays small.
            var cutoff = _time.GetUtcNow() - TimeSpan.FromHours(1);
            foreach (var old in _operations.Where(o => o.Value.EndTime < cutoff).Select(o => o.Key).ToList())
            {
                _operations.Remove(old);
            }

            _operations[operationId] = new DeleteOperation(_time.GetUtcNow(), Options.DeletePollsBeforeDone);
        }

        var operations = $"{BaseUrl(context)}/subscriptions/{Options.SubscriptionId}/providers/Microsoft.HybridCompute/locations/{location}";
        context.Response.Headers.Location = $"{operations}/operationResults/{operationId}?api-version={MachinesApiVersion}";
        context.Response.Headers["Azure-AsyncOperation"] = $"{operations}/operationStatuses/{operationId}?api-version={MachinesApiVersion}";
        context.Response.Headers.RetryAfter = Options.DeleteRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Results.StatusCode(202);
    }

    /// <summary>The Azure-AsyncOperation URL: always 200, with status InProgress then Succeeded.</summary>
    private IResult GetOperationStatus(HttpContext context, string subscriptionId, string location, string operationId)
    {
        if (Preamble(context, "GetOperationStatus", subscriptionId, MachineApiVersions) is { } failure)
        {
            return failure;
        }

        if (Poll(operationId) is not { } operation)
        {
            return ArmError(404, "ResourceNotFound", $"The operation '{operationId}' was not found.", operationId);
        }

        var done = operation.EndTime is not null;
        if (!done)
        {
            context.Response.Headers.RetryAfter = Options.DeleteRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }

        var status = new JsonObject
        {
            ["id"] = $"/subscriptions/{Options.SubscriptionId}/providers/Microsoft.HybridCompute/locations/{location}/operationStatuses/{operationId}",
            ["name"] = operationId,
            ["status"] = done ? "Succeeded" : "InProgress",
            ["startTime"] = MachineState.Iso(operation.StartTime),
        };
        if (operation.EndTime is { } end)
        {
            status["endTime"] = MachineState.Iso(end);
        }

        return Json(status, 200);
    }

    /// <summary>The Location URL: 202 while in progress, then 204 (a delete has no result body).</summary>
    private IResult GetOperationResult(HttpContext context, string subscriptionId, string location, string operationId)
    {
        if (Preamble(context, "GetOperationResult", subscriptionId, MachineApiVersions) is { } failure)
        {
            return failure;
        }

        if (Poll(operationId) is not { } operation)
        {
            return ArmError(404, "ResourceNotFound", $"The operation '{operationId}' was not found.", operationId);
        }

        if (operation.EndTime is not null)
        {
            return Results.NoContent();
        }

        context.Response.Headers.Location = $"{BaseUrl(context)}{context.Request.Path}{context.Request.QueryString}";
        context.Response.Headers.RetryAfter = Options.DeleteRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Results.StatusCode(202);
    }

    private DeleteOperation? Poll(string operationId)
    {
        lock (_gate)
        {
            if (!_operations.TryGetValue(operationId, out var operation))
            {
                return null;
            }

            if (operation.EndTime is null)
            {
                operation = operation.PollsLeft > 0
                    ? operation with { PollsLeft = operation.PollsLeft - 1 }
                    : operation with { EndTime = _time.GetUtcNow() };
                _operations[operationId] = operation;
            }

            return operation;
        }
    }

    private IResult ListMachinesInGroup(HttpContext context, string subscriptionId, string resourceGroupName)
    {
        if (Preamble(context, "ListMachinesByResourceGroup", subscriptionId, MachineApiVersions) is { } failure)
        {
            return failure;
        }

        lock (_gate)
        {
            if (!_resourceGroups.ContainsKey(resourceGroupName))
            {
                return ResourceGroupNotFound(resourceGroupName);
            }

            var prefix = resourceGroupName.ToLowerInvariant() + "/";
            return ListPage(context, _machines.Where(m => m.Key.StartsWith(prefix, StringComparison.Ordinal)));
        }
    }

    private IResult ListMachinesInSubscription(HttpContext context, string subscriptionId)
    {
        if (Preamble(context, "ListMachinesBySubscription", subscriptionId, MachineApiVersions) is { } failure)
        {
            return failure;
        }

        lock (_gate)
        {
            return ListPage(context, _machines);
        }
    }

    /// <summary>
    /// One page in key order. The skip token is the last key served, so machines created or deleted between pages
    /// never shift the rest of the listing (no duplicates, no gaps for machines that stayed).
    /// </summary>
    private IResult ListPage(HttpContext context, IEnumerable<KeyValuePair<string, MachineState>> machines)
    {
        var after = DecodeSkipToken(context.Request.Query["$skiptoken"].ToString());
        if (after is null)
        {
            return ArmError(400, "InvalidSkipToken", "The $skiptoken is not valid.", "$skiptoken");
        }

        var page = machines.Where(m => string.CompareOrdinal(m.Key, after) > 0).Take(Options.ListPageSize + 1).ToList();
        var value = new JsonArray();
        foreach (var (_, machine) in page.Take(Options.ListPageSize))
        {
            value.Add(machine.ToJson(Options.TenantId));
        }

        var result = new JsonObject { ["value"] = value };
        if (page.Count > Options.ListPageSize)
        {
            var token = Convert.ToBase64String(Encoding.UTF8.GetBytes(page[Options.ListPageSize - 1].Key)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            result["nextLink"] = $"{BaseUrl(context)}{context.Request.Path}?api-version={Uri.EscapeDataString(context.Request.Query["api-version"].ToString())}&$skiptoken={token}";
        }

        return Json(result, 200);
    }

    private static string? DecodeSkipToken(string token)
    {
        if (token.Length == 0)
        {
            return "";
        }

        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            base64 += new string('=', (4 - (base64.Length % 4)) % 4);
            return Encoding.UTF8.GetString(Convert.FromBase64String(base64));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// What ARM does before the resource provider sees a request: counts it, stamps the headers, checks the bearer
    /// token, the api-version and the subscription. Null means go on. Throttling will hook in here.
    /// </summary>
    private IResult? Preamble(HttpContext context, string operation, string subscriptionId, string[] apiVersions)
    {
        _stats.Record("arm", operation);
        var headers = context.Response.Headers;
        var requestId = Guid.NewGuid().ToString("D");
        headers["x-ms-request-id"] = requestId;
        headers["x-ms-correlation-request-id"] = context.Request.Headers["x-ms-correlation-request-id"] is { Count: > 0 } correlation ? correlation.ToString() : requestId;
        if (context.Request.Headers["x-ms-client-request-id"] is { Count: > 0 } clientRequestId)
        {
            headers["x-ms-client-request-id"] = clientRequestId;
        }

        // x-ms-ratelimit-remaining-* is set by ApplyArmRealismAsync, which runs first.
        if (Authenticate(context) is { } authFailure)
        {
            return authFailure;
        }

        var apiVersion = context.Request.Query["api-version"].ToString();
        if (apiVersion.Length == 0)
        {
            return ArmError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.", "api-version");
        }

        if (!apiVersions.Contains(apiVersion, StringComparer.OrdinalIgnoreCase))
        {
            return apiVersions == MachineApiVersions
                ? ArmError(400, "NoRegisteredProviderFound", $"No registered resource provider found for API version '{apiVersion}' and type 'machines'. The supported api-versions are '{string.Join(", ", apiVersions)}'.", "api-version")
                : ArmError(400, "InvalidApiVersionParameter", $"The api-version '{apiVersion}' is invalid. The supported versions are '{string.Join(",", apiVersions)}'.", "api-version");
        }

        if (!string.Equals(subscriptionId, Options.SubscriptionId, StringComparison.OrdinalIgnoreCase))
        {
            return ArmError(404, "SubscriptionNotFound", $"The subscription '{subscriptionId}' could not be found.", subscriptionId);
        }

        return null;
    }

    private IResult? Authenticate(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            return AuthenticationError(context, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.");
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticationError(context, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format.");
        }

        var now = _time.GetUtcNow();
        return FindToken(header["Bearer ".Length..].Trim()) switch
        {
            null => AuthenticationError(context, "InvalidAuthenticationToken", "The access token is invalid."),
            { ExpiresAt: var expiry } when expiry <= now => AuthenticationError(context, "ExpiredAuthenticationToken",
                $"The access token expiry UTC time '{expiry.UtcDateTime.ToString("M/d/yyyy h:mm:ss tt", CultureInfo.InvariantCulture)}' is earlier than current UTC time '{now.UtcDateTime.ToString("M/d/yyyy h:mm:ss tt", CultureInfo.InvariantCulture)}'."),
            { Audience: var audience } when !IsArmAudience(audience, BaseUrl(context)) => AuthenticationError(context, "InvalidAuthenticationTokenAudience",
                $"The access token has been obtained for wrong audience or resource '{audience}'. It should exactly match with one of the allowed audiences '{ArmAudience}', '{BaseUrl(context)}'."),
            _ => null,
        };
    }

    private IResult AuthenticationError(HttpContext context, string code, string message)
    {
        // Never echo the presented token: the message names only what was wrong with it.
        context.Response.Headers.WWWAuthenticate =
            $"Bearer authorization_uri=\"{BaseUrl(context)}/{Options.TenantId}\", error=\"invalid_token\", error_description=\"{message.Replace("\"", "'", StringComparison.Ordinal)}\"";
        return ArmError(401, code, message, null);
    }

    private bool HasResourceGroup(string name)
    {
        lock (_gate)
        {
            return _resourceGroups.ContainsKey(name);
        }
    }

    private static void ApplyWritable(MachineState machine, string? kind, Dictionary<string, string> tags, bool? wantsIdentity, string? publicKey, string? osType, DateTimeOffset now)
    {
        machine.Kind = kind is null ? machine.Kind : Kinds.First(k => k.Equals(kind, StringComparison.OrdinalIgnoreCase));
        machine.Tags = tags;
        if (wantsIdentity is { } wants)
        {
            machine.PrincipalId = wants ? machine.PrincipalId ?? Guid.NewGuid() : null;
        }

        machine.RegisterKey(publicKey, now);
        machine.OsType = osType?.ToLowerInvariant() ?? machine.OsType;
        machine.LastModifiedAt = now;
    }

    private static bool TryReadTags(JsonObject body, out Dictionary<string, string>? tags)
    {
        tags = null;
        switch (body["tags"])
        {
            case null:
                return true;
            case JsonObject tagObject:
                tags = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var (key, value) in tagObject)
                {
                    if (value is not JsonValue v || !v.TryGetValue<string>(out var text))
                    {
                        return false;
                    }

                    tags[key] = text;
                }

                return true;
            default:
                return false;
        }
    }

    /// <summary>null when no identity was sent; true for SystemAssigned, false for None; fails for other types.</summary>
    private static bool TryReadIdentity(JsonObject body, out bool? wantsIdentity)
    {
        wantsIdentity = null;
        if (body["identity"] is null)
        {
            return true;
        }

        switch (GetString(body["identity"], "type"))
        {
            case { } t when t.Equals("SystemAssigned", StringComparison.OrdinalIgnoreCase):
                wantsIdentity = true;
                return true;
            case { } t when t.Equals("None", StringComparison.OrdinalIgnoreCase):
                wantsIdentity = false;
                return true;
            default:
                return false;
        }
    }

    private static bool IsPkcs1PublicKey(string base64)
    {
        try
        {
            var der = Convert.FromBase64String(base64);
            using var rsa = RSA.Create();
            rsa.ImportRSAPublicKey(der, out var read);
            return read == der.Length;
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            return false;
        }
    }

    private static string? NormalizeLocation(string? location) =>
        string.IsNullOrWhiteSpace(location) ? null : location.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant();

    private static string BaseUrl(HttpContext context) => $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}";

    private static IResult ArmError(int status, string code, string message, string? target) =>
        Json(new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["target"] = target } }, status);

    private static IResult InvalidContent() =>
        ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.", null);

    private static IResult MissingOrInvalid(string property, string target) =>
        ArmError(400, "HCRP400", $"Missing or invalid properties: {property}", target);

    private static IResult ResourceGroupNotFound(string name) =>
        ArmError(404, "ResourceGroupNotFound", $"Resource group '{name}' could not be found.", name);

    private static IResult MachineNotFound(string resourceGroup, string name) =>
        ArmError(404, "ResourceNotFound", $"The Resource 'Microsoft.HybridCompute/machines/{name}' under resource group '{resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix", name);

    private static IResult InvalidMachineName(string name) =>
        ArmError(400, "InvalidResourceName", $"Resource name {name} is invalid. The name can be up to 54 characters in length, and can contain letters, numbers, hyphens, underscores and periods (^[a-zA-Z0-9-_\\.]{{1,54}}$).", name);

    [GeneratedRegex(@"^[a-zA-Z0-9-_\.]{1,54}$")]
    private static partial Regex MachineNamePattern();

    [GeneratedRegex(@"^[-\w\._\(\)]{1,90}$")]
    private static partial Regex ResourceGroupNamePattern();

    private sealed record DeleteOperation(DateTimeOffset StartTime, int PollsLeft, DateTimeOffset? EndTime = null);
}
