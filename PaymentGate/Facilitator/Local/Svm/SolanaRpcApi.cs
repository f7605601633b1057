using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sessions.Payments.Svm;

namespace Sessions.PaymentGate.Facilitator.Local.Svm;

/// <summary>
/// <c>POST /dev/solana-rpc</c>: the Solana JSON-RPC subset a client needs to build an exact payment against the simulated
/// chain (what @x402/svm 2.x asks: <c>getAccountInfo</c> of the mint, <c>getLatestBlockhash</c>), plus
/// <c>getTokenAccountBalance</c>, <c>getBalance</c>, <c>getSlot</c> and <c>getBlockHeight</c> for wallets and tests.
/// Accounts are answered base64-encoded (mint: 82 bytes, token account: 165 bytes, as the token program lays them out).
/// </summary>
public static class SolanaRpcApi
{
    public const string Path = "/dev/solana-rpc";
    const int MethodNotFound = -32601;
    const int InvalidParams = -32602;
    const int InvalidRequest = -32600;

    public static IEndpointRouteBuilder MapSolanaRpcApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Path, HandleAsync).WithTags("Development");
        return app;
    }

    static async Task<IResult> HandleAsync(HttpRequest request, SvmLedger ledger, SimulatedSolanaChain chain, CancellationToken cancellationToken)
    {
        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException)
        {
            return Error(null, -32700, "Parse error");
        }
        if (body is not JsonObject call || call["method"]?.GetValueKind() != JsonValueKind.String)
            return Error(null, InvalidRequest, "Invalid request: one JSON-RPC 2.0 call object");
        var id = call["id"]?.DeepClone();
        var parameters = call["params"] as JsonArray ?? [];
        var network = SvmNetworks.Devnet;
        var slot = chain.CurrentSlot;
        switch ((string)call["method"]!)
        {
            case "getLatestBlockhash":
                var (blockhash, _, lastValid) = chain.LatestBlockhash(network);
                return Result(id, WithContext(slot, new JsonObject { ["blockhash"] = blockhash, ["lastValidBlockHeight"] = lastValid }));
            case "getSlot":
            case "getBlockHeight":
                return Result(id, slot);
            case "getBalance":
                // Lamports: the fee payer pays every fee of the simulated chain; everyone else holds no SOL.
                return Result(id, WithContext(slot, ReadAddress(parameters) == SimulatedSolanaChain.FeePayer.Address ? 1_000_000_000_000 : 0));
            case "getAccountInfo":
                if (ReadAddress(parameters) is not { } address)
                    return Error(id, InvalidParams, "Invalid param: the first parameter is a base58 address");
                return Result(id, WithContext(slot, await AccountInfoAsync(network, address, ledger, cancellationToken)));
            case "getTokenAccountBalance":
                if (ReadAddress(parameters) is not { } tokenAccount)
                    return Error(id, InvalidParams, "Invalid param: the first parameter is a base58 address");
                if (await ledger.GetAccountAsync(network, tokenAccount.ToString(), cancellationToken) is not { } account)
                    return Error(id, InvalidParams, "Invalid param: could not find account");
                var decimals = KnownSvmAssets.TryFind(network, SolanaAddress.Parse(account.Mint), out var asset) ? asset.Decimals : 0;
                return Result(id, WithContext(slot, new JsonObject
                {
                    ["amount"] = account.Balance.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["decimals"] = decimals,
                    ["uiAmountString"] = (account.Balance / Math.Pow(10, decimals)).ToString(System.Globalization.CultureInfo.InvariantCulture),
                }));
            default:
                return Error(id, MethodNotFound, "Method not found (the simulated chain answers getAccountInfo, getLatestBlockhash, getTokenAccountBalance, getBalance, getSlot, getBlockHeight)");
        }
    }

    static async Task<JsonNode?> AccountInfoAsync(string network, SolanaAddress address, SvmLedger ledger, CancellationToken cancellationToken)
    {
        if (KnownSvmAssets.TryFind(network, address, out var asset))
            return Account(MintData(asset), asset.TokenProgram, 1_461_600);
        if (await ledger.GetAccountAsync(network, address.ToString(), cancellationToken) is { } account
            && KnownSvmAssets.TryFind(network, SolanaAddress.Parse(account.Mint), out var held))
            return Account(TokenAccountData(account), held.TokenProgram, 2_039_280);
        return null;
    }

    // spl-token Mint: COption<authority> (36), supply u64, decimals u8, is_initialized u8, COption<freeze authority> (36).
    static byte[] MintData(SvmAssetInfo asset)
    {
        var data = new byte[82];
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(36), 1_000_000_000_000_000);
        data[44] = asset.Decimals;
        data[45] = 1;
        return data;
    }

    // spl-token Account: mint, owner, amount u64, COption<delegate> (36), state u8 (1 = initialized), COption<u64> is_native (12),
    // delegated_amount u64, COption<close authority> (36).
    static byte[] TokenAccountData(SvmTokenAccount account)
    {
        var data = new byte[165];
        SolanaAddress.Parse(account.Mint).Bytes.CopyTo(data.AsSpan(0));
        SolanaAddress.Parse(account.Owner).Bytes.CopyTo(data.AsSpan(32));
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(64), account.Balance);
        data[108] = 1;
        return data;
    }

    static JsonObject Account(byte[] data, SolanaAddress owner, long lamports) => new()
    {
        ["data"] = new JsonArray(Convert.ToBase64String(data), "base64"),
        ["executable"] = false,
        ["lamports"] = lamports,
        ["owner"] = owner.ToString(),
        ["rentEpoch"] = 0,
        ["space"] = data.Length,
    };

    static SolanaAddress? ReadAddress(JsonArray parameters) =>
        parameters.Count > 0 && parameters[0]?.GetValueKind() == JsonValueKind.String && SolanaAddress.TryParse((string)parameters[0]!, out var address)
            ? address
            : null;

    static JsonObject WithContext(long slot, JsonNode? value) => new() { ["context"] = new JsonObject { ["slot"] = slot }, ["value"] = value };

    static IResult Result(JsonNode? id, JsonNode? result) =>
        TypedResults.Json(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["result"] = result });

    static IResult Error(JsonNode? id, int code, string message) =>
        TypedResults.Json(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });
}
