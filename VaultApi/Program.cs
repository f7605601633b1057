using Sessions.VaultApi.Vaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.Services.AddSingleton(TimeProvider.System);
builder.AddNpgsqlDataSource("vaultsdb", configureDataSourceBuilder: StatementPreparation.Configure);
builder.AddDatabaseMigrations<Program>("vaultsdb");
builder.AddVaults();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapVaultsApi();

app.Run();
