using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Sessions.PaymentGate.Mcp;

namespace Sessions.PaymentGate.Pricing;

/// <summary>
/// Adds the proxied routes (YARP, not seen by ASP.NET Core's generator) to the OpenAPI document: one operation per route and
/// method, its description, and on paid ones <c>x-payment</c> and the 402. Prices come from <see cref="PricingApi.Describe"/>,
/// the same values as <c>GET /api/pricing</c> and the 402 itself.
/// </summary>
public sealed partial class GateRoutesDocument(PricingCatalog catalog, McpPricing mcp, IConfiguration configuration) : IOpenApiDocumentTransformer
{
    /// <summary>What a route without a method forwards (YARP matches any method; OpenAPI has no "any").</summary>
    static readonly HttpMethod[] AnyMethod = [HttpMethod.Get, HttpMethod.Post, HttpMethod.Put, HttpMethod.Patch, HttpMethod.Delete];

    const string PaidTag = "Paid routes";
    const string FreeTag = "Free routes";

    public async Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Paths ??= [];
        document.Tags ??= new HashSet<OpenApiTag>();
        document.Tags.Add(new OpenApiTag { Name = PaidTag, Description = "Forwarded after payment (x402, MPP or a session token)" });
        document.Tags.Add(new OpenApiTag { Name = FreeTag, Description = "Forwarded as they are" });
        // A session token pays any paid route of its organisation when the gate has SessionApi.
        var sessions = configuration.GetSection("services:sessionapi").Exists();
        var tools = await mcp.DescribeAsync(catalog, cancellationToken);
        var pricing = PricingApi.Describe(catalog);

        // Describe lists the catalog's routes in its order, one row each.
        foreach (var (route, price) in catalog.Routes.Zip(pricing.Routes))
        {
            var (path, parameters) = PathItemFor(document, route.Path);
            var item = (OpenApiPathItem)document.Paths[path];
            foreach (var method in route.Method.Length == 0 ? AnyMethod : [new HttpMethod(route.Method)])
            {
                // The gate's own endpoint on the same path and method wins at run time too (literal endpoints before order 100).
                if (item.Operations?.ContainsKey(method) == true)
                    continue;
                var organization = pricing.Organizations.FirstOrDefault(o => o.Id == price.Organization);
                JsonObject? payment = route.Mcp && organization is not null ? McpPayment(organization, tools.Where(t => t.Path == route.Path), sessions)
                    : price.Paid && organization is not null ? Payment(organization, price, sessions)
                    : null;
                item.AddOperation(method, Operation(document, route, parameters, payment));
            }
        }
        DescribeSessionPayments(document, pricing);
    }

    static OpenApiOperation Operation(OpenApiDocument document, GateRoute route, IList<IOpenApiParameter> parameters, JsonObject? payment)
    {
        var operation = new OpenApiOperation
        {
            Summary = route.Description.Length > 0 ? route.Description : $"Forwarded to {route.Service}",
            Description = $"Forwarded to {route.Service}." + (route.Path.Contains("{*", StringComparison.Ordinal)
                ? " The last path parameter takes the rest of the path, slashes included." : ""),
            Tags = new HashSet<OpenApiTagReference> { new(payment is null ? FreeTag : PaidTag, document) },
            Parameters = parameters,
            Responses = new OpenApiResponses { ["default"] = new OpenApiResponse { Description = "The upstream's answer" } },
        };
        if (payment is null)
            return operation;
        operation.Extensions = new Dictionary<string, IOpenApiExtension> { ["x-payment"] = new JsonNodeExtension(payment) };
        if (route.Mcp)
        {
            // MCP asks for payment inside JSON-RPC (x402 payment-required tool result, MPP -32042), not with an HTTP 402.
            operation.Description += " A priced tools/call without payment is answered in JSON-RPC; x-payment.tools are the prices learnt now, GET /api/pricing has them too.";
            return operation;
        }
        operation.Description += " Pay with PAYMENT-SIGNATURE (x402 v2), X-PAYMENT (v1), Authorization: Payment (MPP) or Payment-Session (a session token).";
        operation.Responses["default"].Description = "The upstream's answer, with PAYMENT-RESPONSE (x402) or Payment-Receipt (MPP) once settled";
        operation.Responses["402"] = PaymentRequired();
        operation.Responses["503"] = new OpenApiResponse { Description = "Facilitator, Redis or Postgres unavailable, or settlement pending (problem+json, Retry-After)" };
        return operation;
    }

    static OpenApiResponse PaymentRequired() => new()
    {
        Description = "Payment required: the x402 v1 offer in the body, v2 in PAYMENT-REQUIRED, the MPP challenge in WWW-Authenticate",
        Headers = new Dictionary<string, IOpenApiHeader>
        {
            ["PAYMENT-REQUIRED"] = new OpenApiHeader { Description = "x402 v2 PaymentRequired, base64 JSON", Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
            ["WWW-Authenticate"] = new OpenApiHeader { Description = "MPP challenge: Payment ... method=\"evm\" intent=\"charge\"", Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
        },
        Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() },
    };

    /// <summary>Who is paid, in what, how: the part of <c>x-payment</c> every paid operation of an organisation shares.</summary>
    static JsonObject Terms(OrganizationPricing organization, bool sessions) => new()
    {
        ["organization"] = organization.Id,
        ["asset"] = organization.Asset,
        ["symbol"] = organization.Symbol,
        ["decimals"] = organization.Decimals,
        ["network"] = organization.Network,
        ["networks"] = organization.V1Network is { } v1 ? new JsonArray(organization.Network, v1) : new JsonArray(organization.Network),
        ["payTo"] = organization.PayTo,
        ["schemes"] = organization.V1Network is null ? new JsonArray("x402 exact v2", "mpp evm charge")
            : new JsonArray("x402 exact v2", "x402 exact v1", "mpp evm charge"),
        ["sessions"] = sessions,
    };

    static JsonObject Payment(OrganizationPricing organization, RoutePricing route, bool sessions)
    {
        var payment = Terms(organization, sessions);
        payment.Insert(1, "price", route.Price);
        payment.Insert(2, "amount", route.Amount?.ToString());
        return payment;
    }

    static JsonObject McpPayment(OrganizationPricing organization, IEnumerable<McpToolPricing> tools, bool sessions)
    {
        var payment = Terms(organization, sessions);
        payment["perTool"] = true;
        payment["tools"] = new JsonArray(tools.Select(t => (JsonNode)new JsonObject
        {
            ["name"] = t.Name, ["paid"] = t.Paid, ["price"] = t.Price, ["amount"] = t.Amount?.ToString(),
        }).ToArray());
        return payment;
    }

    /// <summary>
    /// Opening and topping up a session are paid at the gate's own endpoints: the amount is the request's (<c>amountFrom</c>),
    /// paid in full to the organisation (the only one, or <c>organization</c> in the body).
    /// </summary>
    static void DescribeSessionPayments(OpenApiDocument document, PricingResponse pricing)
    {
        foreach (var (path, amountFrom) in new[] { ("/api/sessions", "deposit"), ("/api/sessions/{id}/topup", "amount") })
        {
            if (document.Paths.GetValueOrDefault(path) is not OpenApiPathItem item || item.Operations?.GetValueOrDefault(HttpMethod.Post) is not { } operation)
                continue;
            var payment = pricing.Organizations.Count == 1 ? Terms(pricing.Organizations[0], sessions: false)
                : new JsonObject { ["organizations"] = new JsonArray(pricing.Organizations.Select(o => (JsonNode)Terms(o, sessions: false)).ToArray()) };
            payment.Insert(0, "amountFrom", amountFrom);
            (operation.Extensions ??= new Dictionary<string, IOpenApiExtension>())["x-payment"] = new JsonNodeExtension(payment);
            (operation.Responses ??= [])["402"] = PaymentRequired();
        }
    }

    /// <summary>
    /// The OpenAPI path of a route template (<c>{**key}</c> → <c>{key}</c>) and its path parameters. A path equal to one already
    /// in the document but for parameter names (<c>/api/sessions/{**rest}</c> beside the gate's <c>/api/sessions/{id}</c>) is
    /// that path item: OpenAPI forbids two, so the route's parameters take the existing names.
    /// </summary>
    static (string Path, IList<IOpenApiParameter> Parameters) PathItemFor(OpenApiDocument document, string template)
    {
        var path = RouteParameter().Replace(template, "{$1}");
        var existing = document.Paths.Keys.FirstOrDefault(p => string.Equals(Signature(p), Signature(path), StringComparison.OrdinalIgnoreCase));
        if (existing is null)
            document.Paths[path] = new OpenApiPathItem();
        else
            path = existing;
        var parameters = OpenApiParameterName().Matches(path).Select(m => (IOpenApiParameter)new OpenApiParameter
        {
            Name = m.Groups[1].Value,
            In = ParameterLocation.Path,
            Required = true,
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        }).ToList();
        return (path, parameters);
    }

    static string Signature(string path) => OpenApiParameterName().Replace(path, "{}");

    /// <summary>An ASP.NET route parameter: optional <c>*</c>/<c>**</c>, name, then constraints, default or <c>?</c>.</summary>
    [GeneratedRegex(@"\{\*{0,2}([^}:=?]+)[^}]*\}")]
    private static partial Regex RouteParameter();

    [GeneratedRegex(@"\{([^}]+)\}")]
    private static partial Regex OpenApiParameterName();
}
