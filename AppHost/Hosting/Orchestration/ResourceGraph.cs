using Sessions.Hosting.ApplicationModel;
using Sessions.Hosting.Local;

namespace Sessions.Hosting.Orchestration;

/// <summary>Who depends on whom: WaitFor, WithReference and database-to-server edges.</summary>
public static class ResourceGraph
{
    /// <summary>The resources <paramref name="resource"/> needs (waits for, references, or lives in).</summary>
    public static IEnumerable<IResource> DependenciesOf(IResource resource)
    {
        var dependencies = new List<IResource>();
        dependencies.AddRange(resource.OfAnnotation<WaitAnnotation>().Select(w => w.Resource));
        dependencies.AddRange(resource.OfAnnotation<ResourceRelationshipAnnotation>().Select(r => r.Resource));
        if (resource is IResourceWithParent child) dependencies.Add(child.Parent);
        return dependencies.Where(d => d is not ParameterResource && !ReferenceEquals(d, resource)).Distinct();
    }

    /// <summary>
    /// Groups to stop one after the other: first the resources nothing depends on (the gate), last the ones
    /// everything depends on (the servers). Resources in one group are stopped together.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<IResource>> StopOrder(DistributedApplicationModel model)
    {
        var resources = model.Resources.Where(r => r is not ParameterResource).ToArray();
        var dependents = resources.ToDictionary(r => r, _ => new List<IResource>());
        foreach (var resource in resources)
            foreach (var dependency in DependenciesOf(resource))
                if (dependents.TryGetValue(dependency, out var list)) list.Add(resource);

        var rank = new Dictionary<IResource, int>();
        var visiting = new HashSet<IResource>();
        int RankOf(IResource resource)
        {
            if (rank.TryGetValue(resource, out var known)) return known;
            if (!visiting.Add(resource))
                throw new DistributedApplicationException($"Resource '{resource.Name}' depends on itself through its references or waits.");
            var value = dependents[resource].Count == 0 ? 0 : 1 + dependents[resource].Max(RankOf);
            visiting.Remove(resource);
            return rank[resource] = value;
        }

        return resources.GroupBy(RankOf).OrderBy(g => g.Key).Select(g => (IReadOnlyList<IResource>)g.ToArray()).ToArray();
    }

    /// <summary>Gives every endpoint its port for this run: the pinned one (unless randomized) or a free one.</summary>
    public static void AllocateEndpoints(DistributedApplicationModel model, bool randomizePorts)
    {
        var taken = new HashSet<int>();
        foreach (var resource in model.Resources)
        {
            foreach (var endpoint in resource.GetEndpointAnnotations())
            {
                var port = endpoint.Port is { } pinned && !randomizePorts ? pinned : FreePort(taken);
                taken.Add(port);
                endpoint.AllocatedEndpoint = new AllocatedEndpoint(endpoint, "localhost", port);
            }
        }
    }

    static int FreePort(HashSet<int> taken)
    {
        // The OS hands out ports in sequence, but never give two endpoints the same one.
        for (var attempt = 0; ; attempt++)
        {
            var port = PortAllocator.GetFreePort();
            if (taken.Add(port) || attempt > 20) return port;
        }
    }
}
