using Sessions.Testing;

namespace VaultApi.Tests;

// VaultApi with its own fresh database (vaultsdb): health, migrations, liveness, problem details, database unreachable.
public sealed class VaultApiTests(InfrastructureFixture infrastructure)
    : ServiceBasicsTests<Program>(infrastructure, "vaultsdb", "vaultapi");
