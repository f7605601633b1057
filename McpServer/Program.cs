using Sessions.McpServer.Content;
using Sessions.McpServer.Ping;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPayerStore("redis");
builder.AddMcpTools();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapPingApi();
app.MapContentApi();
app.MapMcpTools();

app.Run();
