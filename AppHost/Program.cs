// The wiring diagram of the system (see README.md in this folder). Each line reads as Aspire's API does:
// WithReference injects connection strings and service URLs, WaitFor holds a resource back until its
// dependency is Running and Healthy, WithHttpHealthCheck says what healthy means for a service.
using Sessions.AppHost;
using Sessions.AppHost.Servers;
using Sessions.AppHost.State;

var builder = DistributedApplication.CreateBuilder(AppHostArguments.Normalize(args));

// .state/: the data of Redis and Postgres and the generated parameters below, kept across runs (--reset-state wipes it).
var state = builder.AddStateFolder();

// Aspire's Redis and Postgres containers where a container runtime answers, local redis-server/postgres processes
// otherwise (this machine, CI); same connection strings either way, data kept in .state/ or in volumes.
var redis = builder.AddRedisServer("redis");

var postgres = builder.AddPostgresServer("postgres");
var sessionsDb = postgres.AddDatabase("sessionsdb");
var vaultsDb = postgres.AddDatabase("vaultsdb");
var gateDb = postgres.AddDatabase("gatedb");

// Signs the payer context the gate forwards to the services (and they verify); generated once, kept in .state/parameters.json.
var payerContextKey = builder.AddParameter("payer-context-key",
    new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);

// Guards SessionApi's /admin endpoints (reconcile, webhooks); read it from .state/parameters.json.
var adminKey = builder.AddParameter("admin-key",
    new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);

// Keys the HMAC of the gate's MPP challenge ids (stateless: every gate instance verifies what another issued).
var mppChallengeKey = builder.AddParameter("mpp-challenge-key",
    new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);

// Seeds the gate's Ed25519 key that signs receipts and ledger checkpoints (seed = SHA-256 of it; public part at /.well-known/jwks.json).
var receiptSigningKey = builder.AddParameter("receipt-signing-key",
    new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);

var vaultApi = builder.AddProject<Projects.VaultApi>("vaultapi")
    .WithReference(vaultsDb).WaitFor(vaultsDb)
    .WithEnvironment("PayerContext__SigningKey", payerContextKey)
    .WithHttpHealthCheck("/health");

// SessionApi provisions the vault of every session (one per session); it references VaultApi without waiting for it:
// a session whose vault cannot be made yet gets it when VaultApi answers.
var sessionApi = builder.AddProject<Projects.SessionApi>("sessionapi")
    .WithReference(sessionsDb).WaitFor(sessionsDb)
    .WithReference(redis).WaitFor(redis)
    .WithReference(vaultApi)
    .WithEnvironment("PayerContext__SigningKey", payerContextKey)
    .WithEnvironment("SessionApi__AdminKey", adminKey)
    .WithHttpHealthCheck("/health")
    .WithAuditLedgerCommand(adminKey)
    .WithShowAdminKeyCommand(state);

// VaultApi reports vault.expiring/vault.expired into SessionApi's webhook outbox. Only its URL, not a reference:
// a reference both ways would be a dependency cycle (stop order), and VaultApi retries reports anyway.
vaultApi.WithEnvironment("services__sessionapi__http__0", sessionApi.Resource.GetEndpoint("http"));

// Its vault tools call VaultApi and session-status calls SessionApi (references without waiting: those tools answer
// "unavailable" until the services are up). No cycle: neither service references mcpserver.
var mcpServer = builder.AddProject<Projects.McpServer>("mcpserver")
    .WithReference(redis).WaitFor(redis)
    .WithReference(vaultApi)
    .WithReference(sessionApi)
    .WithEnvironment("PayerContext__SigningKey", payerContextKey)
    .WithHttpHealthCheck("/health");

// The only way in: agents call http://localhost:8402.
builder.AddProject<Projects.PaymentGate>("paymentgate")
    .WithEndpoint("http", endpoint => endpoint.Port = 8402)
    .WithExternalHttpEndpoints()
    .WithReference(sessionApi).WaitFor(sessionApi)
    .WithReference(vaultApi).WaitFor(vaultApi)
    .WithReference(mcpServer).WaitFor(mcpServer)
    .WithReference(gateDb).WaitFor(gateDb)
    .WithReference(redis).WaitFor(redis)
    .WithEnvironment("PayerContext__SigningKey", payerContextKey)
    .WithEnvironment("Gate__Mpp__ChallengeKey", mppChallengeKey)
    .WithEnvironment("Gate__Receipts__SigningKeys__0", receiptSigningKey)
    .WithEnvironment("Gate__AdminKey", adminKey)
    .WithHttpHealthCheck("/health")
    .WithFundTestWalletCommand();

// Dashboard commands on the servers: wipe every row and key (the services stop and start around it).
postgres.WithResetDataCommand(redis, sessionsDb, vaultsDb, gateDb);

builder.AddStackReporter(entryPoint: "paymentgate");
builder.AddOrderedStop();

builder.Build().Run();
