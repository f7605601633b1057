using System.Globalization;
using Sessions.Payments;
using Sessions.Payments.Svm;
using SimpleBase;

namespace Sessions.PaymentGate.Facilitator.Local.Svm;

/// <summary>The Solana half of <see cref="DevLedgerApi"/>: faucet and account view for <c>solana:*</c> networks.</summary>
public static class SvmDevLedger
{
    const int TransactionLimit = 100;

    public sealed record SvmTransactionView(string Signature, string Kind, string? Source, string Destination, string Amount, DateTimeOffset CreatedAt);

    public sealed record SvmAccountResponse(string Address, string Network, string Asset, string TokenAccount, string Balance, IReadOnlyList<SvmTransactionView> Transactions);

    /// <summary>The owner's address, the network and mint (USDC when not given); errors keyed like the EVM faucet's.</summary>
    public static (SolanaAddress Owner, SvmAssetInfo? Asset) Resolve(string? address, string? network, string? asset, Dictionary<string, string[]> errors)
    {
        if (!SolanaAddress.TryParse(address, out var owner))
            errors["address"] = ["address must be a base58 Solana address (32 bytes)"];
        if (!LocalSvmFacilitator.ServedNetworks.Contains(network!))
        {
            errors["network"] = [$"network must be one of {string.Join(", ", LocalSvmFacilitator.ServedNetworks)}"];
            return (owner, null);
        }
        SvmAssetInfo? found = null;
        if (asset is null ? !KnownSvmAssets.TryGetUsdc(network, out found)
            : !SolanaAddress.TryParse(asset, out var mint) || !KnownSvmAssets.TryFind(network, mint, out found))
            errors["asset"] = [$"asset must be a mint of the simulated chain: {string.Join(", ", KnownSvmAssets.All.Where(a => a.Network == network).Select(a => a.Mint))}"];
        return (owner, found);
    }

    public static async Task<DevLedgerApi.FaucetResponse> MintAsync(SvmLedger ledger, SvmAssetInfo asset, SolanaAddress owner, AtomicAmount amount,
        CancellationToken cancellationToken)
    {
        var signature = Base58.Bitcoin.Encode(System.Security.Cryptography.RandomNumberGenerator.GetBytes(64));
        var balance = await ledger.MintAsync(asset, owner, (ulong)amount.Value, signature, cancellationToken);
        return new DevLedgerApi.FaucetResponse(owner.ToString(), asset.Network, asset.Mint.ToString(), balance.ToString(CultureInfo.InvariantCulture));
    }

    public static async Task<SvmAccountResponse> GetAccountAsync(SvmLedger ledger, SvmAssetInfo asset, SolanaAddress owner, CancellationToken cancellationToken)
    {
        var tokenAccount = SolanaAddress.AssociatedTokenAccount(owner, asset.Mint, asset.TokenProgram).ToString();
        var account = await ledger.GetAccountAsync(asset.Network, tokenAccount, cancellationToken);
        var transactions = await ledger.GetTransactionsAsync(asset.Network, tokenAccount, TransactionLimit, cancellationToken);
        return new SvmAccountResponse(owner.ToString(), asset.Network, asset.Mint.ToString(), tokenAccount,
            (account?.Balance ?? 0).ToString(CultureInfo.InvariantCulture),
            [.. transactions.Select(t => new SvmTransactionView(t.Signature, t.Kind, t.Source, t.Destination, t.Amount.ToString(CultureInfo.InvariantCulture), t.CreatedAt))]);
    }
}
