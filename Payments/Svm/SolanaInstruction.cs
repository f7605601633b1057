namespace Sessions.Payments.Svm;

/// <summary>An account an instruction names, with what it needs: a signature, write access.</summary>
public sealed record SolanaAccountMeta(SolanaAddress Address, bool Signer, bool Writable);

/// <summary>An instruction before compilation: its program, its accounts by address, its data.</summary>
public sealed record SolanaInstruction(SolanaAddress Program, IReadOnlyList<SolanaAccountMeta> Accounts, byte[] Data)
{
    /// <summary>
    /// A message as @solana/kit compiles one: every account's flags merged, the fee payer first, then writable signers,
    /// readonly signers, writable, readonly (stable within each group); v0 unless <paramref name="legacy"/>.
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
        var ordered = metas.Take(1).Concat(metas.Skip(1).OrderBy(m => (m.Signer ? 0 : 2) + (m.Writable ? 0 : 1))).ToList();
        var addresses = ordered.Select(m => m.Address).ToList();
        var compiled = instructions.Select(i => new CompiledInstruction(
            (byte)addresses.IndexOf(i.Program), i.Accounts.Select(a => (byte)addresses.IndexOf(a.Address)).ToArray(), i.Data)).ToList();
        return new SolanaMessage(legacy ? null : 0,
            (byte)ordered.Count(m => m.Signer), (byte)ordered.Count(m => m.Signer && !m.Writable), (byte)ordered.Count(m => !m.Signer && !m.Writable),
            addresses, recentBlockhash, compiled, lookups ?? []);
    }
}
