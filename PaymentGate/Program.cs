var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNpgsqlDataSource("gatedb");
builder.AddDatabaseMigrations<Program>("gatedb");
builder.AddPaymentFacilitator();
builder.AddGateway();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapLocalFacilitator();
app.MapGateway();

app.Run();
