using System.CommandLine;
using Sessions.Cli;
using Sessions.Client;
using Sessions.Payments;

var root = new RootCommand("sessions: pay APIs behind a Sessions gate (x402, MPP, prepaid sessions) from the command line")
{
    CliContext.GateOption, CliContext.KeyOption, CliContext.KeyFileOption, CliContext.StateOption, CliContext.JsonOption,
    WalletCommands.Create(), PayCommand.Create(), SessionCommands.Create(), PricingCommand.Create(), MandateCommands.Create(), VaultCommands.Create(),
    ReceiptCommands.Create(),
};
return await root.Parse(args).InvokeAsync();

namespace Sessions.Cli
{
    public static class CommandRunner
    {
        /// <summary>Runs a command: exit 0, or a one-line reason on stderr and exit 1 (2 for a spend-policy refusal).</summary>
        public static async Task<int> RunAsync(ParseResult parse, Func<CliContext, Task> command)
        {
            try
            {
                await using var context = CliContext.From(parse);
                await command(context);
                return 0;
            }
            catch (CliException e)
            {
                return Fail(e.Message);
            }
            catch (PaymentRefusedException refusal)
            {
                return Fail($"payment refused by the {refusal.Limit} limit: {refusal.Message}", 2);
            }
            catch (HttpRequestException e)
            {
                return Fail($"the gate could not be reached: {e.Message}");
            }
            catch (TaskCanceledException)
            {
                return Fail("the gate did not answer in time");
            }
        }

        static int Fail(string reason, int code = 1)
        {
            Console.Error.WriteLine($"error: {reason.ReplaceLineEndings(" ")}");
            return code;
        }

        /// <summary>A positive amount of atomic units, or a usage failure naming the option.</summary>
        public static AtomicAmount Atomic(string? text, string name) =>
            AtomicAmount.TryParse(text, out var amount) && !amount.IsZero
                ? amount
                : throw new CliException($"{name} must be a positive whole number of atomic units, not '{text}'");
    }
}
