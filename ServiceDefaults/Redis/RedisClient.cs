namespace Sessions.Redis;

// Placeholder so the project builds; the client is being written.
internal static class RedisClientPlaceholder;
