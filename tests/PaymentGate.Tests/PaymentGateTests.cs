using Sessions.Testing;

namespace PaymentGate.Tests;

// PaymentGate with its own fresh database (gatedb): health, migrations, liveness, problem details, database unreachable.
// The gate is public: its health report is the status alone.
public sealed class PaymentGateTests(InfrastructureFixture infrastructure)
    : ServiceBasicsTests<Program>(infrastructure, "gatedb", "paymentgate", healthWithChecks: false);
