var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNpgsqlDataSource("vaultsdb");
builder.AddDatabaseMigrations<Program>("vaultsdb");

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
