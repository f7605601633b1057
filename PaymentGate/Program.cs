var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNpgsqlDataSource("gatedb");
builder.AddDatabaseMigrations<Program>("gatedb");

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
