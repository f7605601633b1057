using Sessions.PaymentGate.Ledger;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNpgsqlDataSource("gatedb", configureDataSourceBuilder: StatementPreparation.Configure);
builder.AddDatabaseMigrations<Program>("gatedb");
builder.AddPaymentFacilitator();
builder.AddGateway();
builder.AddGateLedger();

var app = builder.Build();

// The only service reachable from outside: /health and /alive say Healthy or Unhealthy, never what runs behind them.
app.MapDefaultEndpoints(withChecks: false);
app.MapLocalFacilitator();
app.MapGateLedger();
app.MapGateway();

app.Run();
