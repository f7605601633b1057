using Sessions.Testing;

namespace SessionApi.Tests;

// SessionApi with its own fresh database (sessionsdb): health, migrations, liveness, problem details, database unreachable.
public sealed class SessionApiTests(InfrastructureFixture infrastructure)
    : ServiceBasicsTests<Program>(infrastructure, "sessionsdb", "sessionapi");
