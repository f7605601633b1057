using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace ServiceDefaults.Tests.Redis;

// The Redis client every service uses (ServiceDefaults/Integrations/RedisFailFast.cs): fail fast while Redis is down, and
// replies completed on the .NET thread pool (the library's dedicated threads cost ~60 µs of CPU per session request here).
public class RedisClientOptionsTests
{
    [Fact]
    public void Fails_fast_and_completes_replies_on_the_thread_pool()
    {
        var options = ConfigurationOptions.Parse("localhost:6379");
        RedisFailFast.Configure(options);

        Assert.Same(SocketManager.ThreadPool, options.SocketManager);
        Assert.Same(BacklogPolicy.FailFast, options.BacklogPolicy);
        Assert.False(options.AbortOnConnectFail);
        Assert.Equal(RedisFailFast.CommandTimeoutMs, options.AsyncTimeout);
    }
}
