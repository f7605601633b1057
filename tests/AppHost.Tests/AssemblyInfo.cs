// Every test class here starts whole stacks (DCP, the dashboard, nine resources) or kills one on purpose: run side by side
// on two cores they starve each other and DCP's own 10 s stop timeout fails a stop that would succeed alone (seen: stop of
// mcpserver "failed" while ShutdownTests killed its AppHost). One class at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
