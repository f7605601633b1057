using System.Diagnostics;
using System.Globalization;
using Sessions.Redis;

// N concurrent callers share ONE RedisClient (one connection) and issue SET, then GET, on a fixed key with a
// 3-byte value: the same workload as `redis-benchmark -t set,get` (whose default key is "key:__rand_int__").
// Output: one "RESULT <callers> <command> <ops/s>" line per run, read by redis-benchmark.sh.

var port = 6379;
var ops = 100_000;
int[] concurrencies = [1, 16, 64];
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--port": port = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--ops": ops = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--concurrency": concurrencies = [.. args[i + 1].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))]; break;
        default: throw new ArgumentException($"Unknown option {args[i]}; use --port P --ops N --concurrency 1,16,64.");
    }
}

await using var client = await RedisClient.ConnectAsync(new RedisOptions
{
    Host = "127.0.0.1",
    Port = port,
    AbortOnConnectFail = true,
    CommandTimeout = TimeSpan.FromSeconds(30),
});
const string key = "key:__rand_int__";
RedisValue value = "xxx";

// Warm-up: JIT tiering and pools reach their steady state before anything is timed.
await RunAsync(64, 50_000, isSet: true);
await RunAsync(64, 50_000, isSet: false);

foreach (var callers in concurrencies)
{
    // One caller is latency-bound (a round trip per command), so it gets fewer operations to keep the run short.
    var count = callers == 1 ? Math.Max(1, ops / 5) : ops;
    foreach (var isSet in new[] { true, false })
    {
        GC.Collect();
        var elapsed = await RunAsync(callers, count, isSet);
        var rate = count / elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {callers} {(isSet ? "SET" : "GET")} {rate:0}"));
    }
}

async Task<TimeSpan> RunAsync(int callers, int count, bool isSet)
{
    var remaining = count;
    var clock = Stopwatch.StartNew();
    var workers = new Task[callers];
    for (var w = 0; w < callers; w++) workers[w] = Task.Run(Worker);
    await Task.WhenAll(workers);
    return clock.Elapsed;

    async Task Worker()
    {
        while (Interlocked.Decrement(ref remaining) >= 0)
        {
            if (isSet) await client.SetAsync(key, value);
            else if ((await client.GetAsync(key)).IsNull) throw new InvalidOperationException("GET returned null.");
        }
    }
}
