var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNpgsqlDataSource("gatedb");
builder.AddDatabaseMigrations<Program>("gatedb");
builder.AddPaymentFacilitator();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapLocalFacilitator();

app.Run();
