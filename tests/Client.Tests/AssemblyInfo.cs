[assembly: AssemblyFixture(typeof(Sessions.Testing.InfrastructureFixture))]
