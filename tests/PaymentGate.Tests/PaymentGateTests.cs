using Sessions.Testing;

namespace PaymentGate.Tests;

// PaymentGate with its own fresh database (gatedb): health, migrations, liveness, problem details, database unreachable.
public sealed class PaymentGateTests(InfrastructureFixture infrastructure)
    : ServiceBasicsTests<Program>(infrastructure, "gatedb", "paymentgate");
