var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNpgsqlDataSource("sessionsdb");
builder.AddDatabaseMigrations<Program>("sessionsdb");

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
