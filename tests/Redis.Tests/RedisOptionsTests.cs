using Sessions.Redis;

namespace Redis.Tests;

public class RedisOptionsTests
{
    [Fact]
    public void Aspire_format_with_password()
    {
        var options = RedisOptions.Parse("cache.internal:6380,password=s3cr=t");
        Assert.Equal("cache.internal", options.Host);
        Assert.Equal(6380, options.Port);
        Assert.Equal("s3cr=t", options.Password);   // only the first '=' separates key and value
        Assert.Equal("cache.internal:6380", options.Endpoint);
        Assert.DoesNotContain("s3cr", options.ToString());
    }

    [Fact]
    public void Host_without_port_defaults_to_6379()
    {
        Assert.Equal(6379, RedisOptions.Parse("localhost").Port);
        Assert.Equal(("::1", 6379), (RedisOptions.Parse("::1").Host, RedisOptions.Parse("::1").Port));
        Assert.Equal(("::1", 7000), (RedisOptions.Parse("[::1]:7000").Host, RedisOptions.Parse("[::1]:7000").Port));
        Assert.Equal("[::1]:7000", RedisOptions.Parse("[::1]:7000").Endpoint);
    }

    [Fact]
    public void StackExchange_options_are_understood_and_unknown_ones_ignored()
    {
        var options = RedisOptions.Parse(" 127.0.0.1:7001 , abortConnect=False, connectTimeout=1500, syncTimeout=250, defaultDatabase=3, ssl=false, name=sessions-api, user=app, allowAdmin=true, keepAlive=60, tiebreaker= ");
        Assert.False(options.AbortOnConnectFail);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.CommandTimeout);
        Assert.Equal(3, options.Database);
        Assert.False(options.Ssl);
        Assert.Equal("sessions-api", options.ClientName);
        Assert.Equal("app", options.User);

        Assert.Equal(TimeSpan.FromMilliseconds(900), RedisOptions.Parse("h,asyncTimeout=900").CommandTimeout);
        Assert.True(RedisOptions.Parse("h,abortConnect=true").AbortOnConnectFail);
        Assert.True(RedisOptions.Parse("h,ssl=True,sslHost=redis.example").Ssl);
        Assert.Equal("redis.example", RedisOptions.Parse("h,ssl=True,sslHost=redis.example").SslHost);
    }

    [Fact]
    public void Defaults()
    {
        var options = RedisOptions.Parse("h:1");
        Assert.Equal(TimeSpan.FromSeconds(5), options.CommandTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ConnectTimeout);
        Assert.Equal(0, options.Database);
        Assert.Null(options.Password);
        Assert.False(options.Ssl);
    }

    [Theory]
    [InlineData("")]
    [InlineData("password=x")]
    [InlineData("h:notaport")]
    [InlineData("h:70000")]
    [InlineData("h,connectTimeout=soon")]
    [InlineData("h,defaultDatabase=-1")]
    [InlineData("h,ssl=maybe")]
    [InlineData(":6379")]
    public void Malformed_strings_are_rejected_with_a_clear_message(string connectionString)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => RedisOptions.Parse(connectionString));
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Fact]
    public void Several_endpoints_are_not_supported() =>
        Assert.Throws<NotSupportedException>(() => RedisOptions.Parse("a:1,b:2"));
}
