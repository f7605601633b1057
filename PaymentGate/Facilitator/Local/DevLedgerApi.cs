using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Sessions.Payments;
using Sessions.Payments.Crypto;
using Sessions.Payments.Svm;
using Sessions.Payments.X402;
using Sessions.PaymentGate.Facilitator.Local.Svm;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.PaymentGate.Facilitator.Local;

/// <summary>
/// Development helpers on the simulated chain: <c>POST /dev/faucet</c> mints test tokens, <c>GET /dev/accounts/{address}</c>
/// shows a balance and its transfers. Token: <c>network</c>/<c>asset</c> if given, else USDC on Base Sepolia. On a
/// <c>solana:*</c> network the address is a base58 owner and the tokens land in its associated token account (<see cref="SvmDevLedger"/>).
/// </summary>
public static class DevLedgerApi
{
    const int TransferLimit = 100;

    public sealed record FaucetRequest(string? Address, JsonElement Amount, string? Network, string? Asset);

    public sealed record FaucetResponse(string Address, string Network, string Asset, string Balance);

    public sealed record TransferView(long Id, string Kind, string From, string To, string Value, string? Nonce, string Transaction, DateTimeOffset CreatedAt);

    public sealed record AccountResponse(string Address, string Network, string Asset, string Balance, IReadOnlyList<TransferView> Transfers);

    public static RouteGroupBuilder MapDevLedgerApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/dev").WithTags("Development");
        group.MapPost("/faucet", FaucetAsync);
        group.MapGet("/accounts/{address}", GetAccountAsync);
        return group;
    }

    static async Task<Results<Ok<FaucetResponse>, ValidationProblem>> FaucetAsync(
        FaucetRequest request, TokenLedger ledger, SvmLedger svmLedger, IOptions<FacilitatorOptions> options, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var max = options.Value.Local.FaucetMax;
        if (!TryReadAmount(request.Amount, out var amount) || amount.IsZero || amount > max)
            errors["amount"] = [$"amount must be a positive integer of atomic units (a string), at most {max}"];
        if (SvmNetworks.IsSvm(request.Network))
        {
            var (owner, svmAsset) = SvmDevLedger.Resolve(request.Address, request.Network, request.Asset, errors);
            if (errors.Count > 0)
                return Problems.Invalid(errors, "Invalid faucet request");
            return TypedResults.Ok(await SvmDevLedger.MintAsync(svmLedger, svmAsset!, owner, amount, cancellationToken));
        }
        if (!EvmAddress.TryParse(request.Address, out var address, out var addressError))
            errors["address"] = [addressError!];
        var token = ResolveToken(request.Network, request.Asset, errors);
        if (errors.Count > 0)
            return Problems.Invalid(errors, "Invalid faucet request");

        var transaction = Hex.Encode(Keccak256.HashUtf8($"faucet {Guid.NewGuid():N}"));
        var balance = await ledger.MintAsync(token!, address.ToLowerHex(), amount, transaction, cancellationToken);
        return TypedResults.Ok(new FaucetResponse(address.ToLowerHex(), token!.Network, token.Asset, balance.ToString(CultureInfo.InvariantCulture)));
    }

    static async Task<Results<Ok<AccountResponse>, Ok<SvmDevLedger.SvmAccountResponse>, ValidationProblem>> GetAccountAsync(
        string address, string? network, string? asset, TokenLedger ledger, SvmLedger svmLedger, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (SvmNetworks.IsSvm(network))
        {
            var (owner, svmAsset) = SvmDevLedger.Resolve(address, network, asset, errors);
            if (errors.Count > 0)
                return Problems.Invalid(errors, "Invalid account request");
            return TypedResults.Ok(await SvmDevLedger.GetAccountAsync(svmLedger, svmAsset!, owner, cancellationToken));
        }
        // Any casing finds the account: the ledger keys addresses in lowercase.
        if (!EvmAddress.TryParse(address.ToLowerInvariant(), out var holder, out var addressError))
            errors["address"] = [addressError!];
        var token = ResolveToken(network, asset, errors);
        if (errors.Count > 0)
            return Problems.Invalid(errors, "Invalid account request");

        var key = holder.ToLowerHex();
        var balance = await ledger.GetBalanceAsync(key, token!, cancellationToken);
        var transfers = await ledger.GetTransfersAsync(key, token!, TransferLimit, cancellationToken);
        return TypedResults.Ok(new AccountResponse(key, token!.Network, token.Asset, balance.ToString(CultureInfo.InvariantCulture),
            [.. transfers.Select(t => new TransferView(t.Id, t.Kind, t.From, t.To, t.Value.ToString(CultureInfo.InvariantCulture), t.Nonce, t.Transaction, t.CreatedAt))]));
    }

    static LedgerToken? ResolveToken(string? network, string? asset, Dictionary<string, string[]> errors)
    {
        var caip2 = Networks.BaseSepolia;
        if (network is not null && (!Networks.TryNormalizeToCaip2(network, out caip2) || !LocalFacilitator.ServedNetworks.Contains(caip2)))
        {
            errors["network"] = [$"network must be one of {string.Join(", ", LocalFacilitator.ServedNetworks)} (or its v1 name)"];
            return null;
        }
        if (asset is null)
            return KnownAssets.TryGetUsdc(caip2, out var usdc) ? new LedgerToken(usdc.Address.ToLowerHex(), caip2) : null;
        if (!EvmAddress.TryParse(asset.ToLowerInvariant(), out var assetAddress, out var assetError))
        {
            errors["asset"] = [assetError!];
            return null;
        }
        return new LedgerToken(assetAddress.ToLowerHex(), caip2);
    }

    // "1000000" as x402 writes amounts; a plain JSON integer is accepted too (curl users type numbers).
    static bool TryReadAmount(JsonElement amount, out AtomicAmount value)
    {
        value = AtomicAmount.Zero;
        return amount.ValueKind switch
        {
            JsonValueKind.String => AtomicAmount.TryParse(amount.GetString(), out value),
            JsonValueKind.Number => AtomicAmount.TryParse(amount.GetRawText(), out value),
            _ => false,
        };
    }
}
