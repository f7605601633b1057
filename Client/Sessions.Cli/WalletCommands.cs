using System.CommandLine;
using System.Net;
using System.Security.Cryptography;
using Sessions.Payments.Crypto;

namespace Sessions.Cli;

/// <summary><c>wallet new | show | fund</c>: a key file, and the address's balance on the gate's Development ledger.</summary>
public static class WalletCommands
{
    public static Command Create()
    {
        var wallet = new Command("wallet", "The payer's key and its balance on a Development gate's ledger");

        var outOption = new Option<string?>("--out") { Description = "Where to write the key (default --key-file, else ~/.sessions/key)" };
        var create = new Command("new", "Create a new key (file mode 600) and print its address") { outOption };
        create.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, context =>
        {
            var path = Path.GetFullPath(parse.GetValue(outOption) ?? context.KeyFile);
            if (File.Exists(path))
                throw new CliException($"{path} exists: not overwriting a key (pass --out)");
            var key = NewKey();
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            SecretFile.Write(path, Hex.Encode(key) + "\n", overwrite: false);
            var address = Secp256k1.AddressOf(key).ToChecksumString();
            context.Print(new { address, keyFile = path }, () => Output.Fields(("address", address), ("key file", path)));
            return Task.CompletedTask;
        }));

        var show = new Command("show", "The address and its balance on the gate's Development ledger (GET /dev/accounts/{address})");
        show.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var address = context.Signer().Address.ToChecksumString();
            using var response = await context.PlainClient().GetAsync($"dev/accounts/{address}", cancellationToken);
            var account = await DevelopmentJsonAsync(response, context, "wallet show", cancellationToken);
            context.Print(new { address, network = CliContext.Text(account, "network"), asset = CliContext.Text(account, "asset"), balance = CliContext.Text(account, "balance") },
                () => Output.Fields(("address", address), ("network", CliContext.Text(account, "network")), ("asset", CliContext.Text(account, "asset")),
                    ("balance", CliContext.Text(account, "balance"))));
        }));

        var amountArgument = new Argument<string>("atomic") { Description = "Test tokens to mint, atomic units (1000000 = 1 USDC)" };
        var fund = new Command("fund", "Mint test tokens to the address (POST /dev/faucet; a Development gate only)") { amountArgument };
        fund.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var amount = CommandRunner.Atomic(parse.GetRequiredValue(amountArgument), "atomic");
            var address = context.Signer().Address.ToChecksumString();
            using var response = await context.PlainClient().PostAsync("dev/faucet",
                CliContext.JsonBody(new { address, amount = amount.ToString() }), cancellationToken);
            var funded = await DevelopmentJsonAsync(response, context, "wallet fund", cancellationToken);
            context.Print(new { address, funded = amount.ToString(), balance = CliContext.Text(funded, "balance") },
                () => Output.Fields(("address", address), ("funded", amount.ToString()), ("balance", CliContext.Text(funded, "balance"))));
        }));

        wallet.Add(create);
        wallet.Add(show);
        wallet.Add(fund);
        return wallet;
    }

    // /dev/* is mapped only in Development (and with the local facilitator): a 404 there means another environment.
    static async Task<System.Text.Json.JsonElement> DevelopmentJsonAsync(HttpResponseMessage response, CliContext context, string what, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.NotFound)
            throw new CliException($"{what}: the gate at {context.Gate} has no Development ledger ({response.RequestMessage?.RequestUri?.AbsolutePath} answered 404); it is not running in Development with the local facilitator");
        return await CliContext.JsonOrFailAsync(response, what, cancellationToken);
    }

    static byte[] NewKey()
    {
        while (true)
        {
            var key = RandomNumberGenerator.GetBytes(Secp256k1.PrivateKeyLength);
            try
            {
                _ = Secp256k1.AddressOf(key);
                return key;
            }
            catch (ArgumentException)
            {
                // Zero or >= the curve order: astronomically unlikely, draw again.
            }
        }
    }
}
