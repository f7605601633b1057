using Sessions.SessionApi.Ledger;
using Sessions.SessionApi.Mandates;
using Sessions.SessionApi.Sessions;
using Sessions.SessionApi.Vaults;
using Sessions.SessionApi.Webhooks;
using Sessions.ServiceDefaults.Ledger;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.Services.AddSingleton(TimeProvider.System);
builder.AddNpgsqlDataSource("sessionsdb", configureDataSourceBuilder: StatementPreparation.Configure);
builder.AddDatabaseMigrations<Program>("sessionsdb");
builder.AddSessions();
builder.AddMandates();
builder.AddWebhooks();
builder.AddVaultProvisioning();
builder.AddLedgerChain(SessionLedgerChain.Options);

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapSessionsApi();
app.MapLedgerAuditApi().MapLedgerChainApi();
app.MapSessionLedgerChainApi();
app.MapMandatesApi();
app.MapWebhooksApi();

app.Run();
