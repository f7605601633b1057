// One stack for the whole assembly; scripts run one at a time (2 cores: Node, the gate and its services share them).
[assembly: AssemblyFixture(typeof(Interop.Tests.StackFixture))]
[assembly: CollectionBehavior(DisableTestParallelization = true)]
