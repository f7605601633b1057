// The wiring diagram of the system; the hosting model arrives with the AppHost issue.
Console.WriteLine("Resources: redis, postgres (sessionsdb, vaultsdb, gatedb), sessionapi, vaultapi, mcpserver, paymentgate");
