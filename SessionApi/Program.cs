using Sessions.SessionApi.Ledger;
using Sessions.SessionApi.Sessions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.Services.AddSingleton(TimeProvider.System);
builder.AddNpgsqlDataSource("sessionsdb");
builder.AddDatabaseMigrations<Program>("sessionsdb");
builder.AddSessions();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapSessionsApi();
app.MapReconcileApi();

app.Run();
