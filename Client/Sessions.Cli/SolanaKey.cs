using System.CommandLine;
using System.Text.Json;
using Sessions.Client;
using Sessions.Payments.Svm;

namespace Sessions.Cli;

/// <summary>
/// The Solana payer of <c>pay</c>: <c>--svm-key</c> (base58 of the 64-byte keypair wallets export, or of the 32-byte seed) or
/// <c>--svm-key-file</c> (the Solana CLI's keypair file, a JSON array of 64 numbers); the first 32 bytes are the ed25519 seed.
/// </summary>
public static class SolanaKey
{
    public static readonly Option<string?> KeyOption = new("--svm-key") { Description = "Pay Solana offers with this key: base58 keypair (64 bytes) or seed (32 bytes)" };
    public static readonly Option<string?> KeyFileOption = new("--svm-key-file") { Description = "Pay Solana offers with a Solana CLI keypair file (JSON array of 64 numbers)" };
    public static readonly Option<string?> RpcOption = new("--solana-rpc") { Description = "The Solana JSON-RPC for the recent blockhash (default: the gate's /dev/solana-rpc)" };

    /// <summary>The signer the options name, null when neither is given, or a one-line failure.</summary>
    public static LocalSolanaKeySigner? From(ParseResult parse)
    {
        if (parse.GetValue(KeyOption) is { } text)
            return SolanaBase58.TryDecode(text.Trim(), out var bytes) ? Signer(bytes, "--svm-key") : throw new CliException("invalid --svm-key: not base58");
        if (parse.GetValue(KeyFileOption) is not { } file)
            return null;
        if (!File.Exists(file))
            throw new CliException($"--svm-key-file: {file} does not exist");
        try
        {
            var numbers = JsonSerializer.Deserialize<int[]>(File.ReadAllText(file)) ?? [];
            return Signer(numbers.Select(number => checked((byte)number)).ToArray(), "--svm-key-file");
        }
        catch (Exception e) when (e is JsonException or OverflowException)
        {
            throw new CliException("invalid --svm-key-file: expected a JSON array of 64 numbers (0-255)");
        }
    }

    static LocalSolanaKeySigner Signer(byte[] bytes, string what)
    {
        if (bytes.Length is not (32 or 64))
            throw new CliException($"invalid {what}: expected a 64-byte keypair or a 32-byte seed, got {bytes.Length} bytes");
        var signer = new LocalSolanaKeySigner(bytes.AsSpan(0, 32));
        // A keypair carries its public key: a mismatch is a corrupted or foreign file.
        if (bytes.Length == 64 && !bytes.AsSpan(32).SequenceEqual(signer.Address.Bytes))
            throw new CliException($"invalid {what}: the keypair's public half does not match its seed");
        return signer;
    }
}
