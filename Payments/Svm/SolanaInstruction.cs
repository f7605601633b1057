namespace Sessions.Payments.Svm;

/// <summary>An account an instruction names, with what it needs: a signature, write access.</summary>
public sealed record SolanaAccountMeta(SolanaAddress Address, bool Signer, bool Writable);

/// <summary>An instruction before compilation: its program, its accounts by address, its data.</summary>
public sealed record SolanaInstruction(SolanaAddress Program, IReadOnlyList<SolanaAccountMeta> Accounts, byte[] Data)
{
    /// <summary>
    /// A message as @solana/kit compiles one: every account's flags merged, the fee payer first, then writable signers,
    /// readonly signers, writable, readonly, each group by address in kit's collation; v0 unless <paramref name="legacy"/>.
    /// </summary>
    public static SolanaMessage Compile(SolanaAddress feePayer, IReadOnlyList<SolanaInstruction> instructions, byte[] recentBlockhash,
        bool legacy = false, IReadOnlyList<AddressTableLookup>? lookups = null)
    {
        var metas = new List<SolanaAccountMeta> { new(feePayer, true, true) };
        void Add(SolanaAccountMeta account)
        {
            var index = metas.FindIndex(m => m.Address == account.Address);
            if (index < 0)
                metas.Add(account);
            else
                metas[index] = new SolanaAccountMeta(account.Address, metas[index].Signer || account.Signer, metas[index].Writable || account.Writable);
        }
        foreach (var instruction in instructions)
        {
            foreach (var account in instruction.Accounts)
                Add(account);
            Add(new SolanaAccountMeta(instruction.Program, false, false));
        }
        var ordered = metas.Take(1).Concat(metas.Skip(1).OrderBy(m => (m.Signer ? 0 : 2) + (m.Writable ? 0 : 1))
            .ThenBy(m => m.Address.ToString(), KitAddressOrder.Instance)).ToList();
        var addresses = ordered.Select(m => m.Address).ToList();
        var compiled = instructions.Select(i => new CompiledInstruction(
            (byte)addresses.IndexOf(i.Program), i.Accounts.Select(a => (byte)addresses.IndexOf(a.Address)).ToArray(), i.Data)).ToList();
        return new SolanaMessage(legacy ? null : 0,
            (byte)ordered.Count(m => m.Signer), (byte)ordered.Count(m => m.Signer && !m.Writable), (byte)ordered.Count(m => !m.Signer && !m.Writable),
            addresses, recentBlockhash, compiled, lookups ?? []);
    }
}

/// <summary>
/// @solana/kit's getAddressComparator: Intl.Collator("en", { caseFirst: "lower", sensitivity: "variant" }) on base58 text,
/// i.e. case-insensitive first (digits before letters), then at the first case difference lowercase first.
/// </summary>
internal sealed class KitAddressOrder : IComparer<string>
{
    public static KitAddressOrder Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        var primary = string.Compare(x, y, StringComparison.OrdinalIgnoreCase);
        if (primary != 0 || x is null || y is null)
            return primary;
        for (var i = 0; i < x.Length; i++)
        {
            if (x[i] != y[i])
                return char.IsLower(x[i]) ? -1 : 1;
        }
        return 0;
    }
}
