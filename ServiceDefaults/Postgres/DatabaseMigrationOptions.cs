namespace Sessions.ServiceDefaults.Postgres;

public sealed class DatabaseMigrationOptions
{
    /// <summary>
    /// How long start-up keeps retrying to connect while PostgreSQL is starting or the database is not created
    /// yet (an AppHost creates it once the server is ready).
    /// </summary>
    public TimeSpan ConnectRetryTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The pg_advisory_lock key that serialises migrators of one database (advisory locks are per database).
    /// Fixed, so every instance of every version of a service agrees on it.
    /// </summary>
    public long AdvisoryLockKey { get; set; } = DefaultAdvisoryLockKey;

    /// <summary>"SESSIONS" in ASCII.</summary>
    public const long DefaultAdvisoryLockKey = 0x5345_5353_494F_4E53;
}
