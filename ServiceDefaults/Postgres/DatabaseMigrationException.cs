namespace Sessions.ServiceDefaults.Postgres;

/// <summary>Start-up stops: a migration failed (and was rolled back), or an applied migration was edited.</summary>
public sealed class DatabaseMigrationException(string message, Exception? innerException = null) : Exception(message, innerException);
