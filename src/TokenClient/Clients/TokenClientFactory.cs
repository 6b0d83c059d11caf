using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using TokenClient.Caching;
using TokenClient.Configuration;
using TokenClient.Diagnostics;

namespace TokenClient.Clients;

/// <summary>
/// Owns the live clients: one <see cref="NamedClient"/> per name, built on first use from the current
/// options and updated whenever they change; a timer releases the tenants that went idle.
/// </summary>
internal sealed class TokenClientFactory : ITokenClientFactory, IDisposable
{
    /// <summary>How often idle tenants are looked for; a tenant is released one to two sweeps after its last use, once its token expired.</summary>
    internal static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    private readonly IOptionsFactory<TokenClientOptions> _options;
    private readonly ClientRuntime _runtime;
    // Replaced whole under _gate when a client is built (a few, once each), so that reads take no lock.
    private volatile Dictionary<string, NamedClient> _clients = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private readonly List<IDisposable> _subscriptions = [];
    private Dictionary<string, TokenClientOptions>? _validated; // under _gate: the options validation built, until a client is built from them
    private int _changes; // written under _gate: how many changes came
    private readonly ITimer _sweeper;

    public TokenClientFactory(
        IOptionsFactory<TokenClientOptions> options,
        IEnumerable<IOptionsChangeTokenSource<TokenClientOptions>> changes,
        TokenClientRegistry registry,
        ClientRuntime runtime)
    {
        _options = options;
        Registry = registry;
        _runtime = runtime;

        // The options' own change sources, watched here rather than through IOptionsMonitor: a reload that
        // fails validation must leave the last valid definition running, not throw. Watched before every client is
        // validated, so that a change after its validation drops the options it kept.
        foreach (var source in changes)
        {
            _subscriptions.Add(ChangeToken.OnChange(source.GetChangeToken, Reload, source.Name));
        }

        // Every client at once, so that one exception names every problem; the options are kept for the clients built
        // from them, unless a change came meanwhile.
        var changesBefore = Volatile.Read(ref _changes);
        Dictionary<string, TokenClientOptions> validated;
        try
        {
            validated = registry.Validate(options, _runtime.Providers);
        }
        catch
        {
            Unsubscribe();
            throw;
        }

        lock (_gate)
        {
            _validated = _changes == changesBefore ? validated : [];
        }

        _sweeper = _runtime.Time.CreateDetachedTimer(static state => ((TokenClientFactory)state!).Sweep(), this, SweepInterval, SweepInterval);
    }

    /// <summary>The names this container's registrations made.</summary>
    public TokenClientRegistry Registry { get; }

    public ITokenClient GetClient(string name) => Named(name);

    public ITokenClient GetClient(string name, string tenant)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        return Named(name).For(tenant);
    }

    /// <summary>The live client of that name, built on first use.</summary>
    internal NamedClient Named(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return _clients.TryGetValue(name, out var client) ? client : Create(name);
    }

    public void Dispose()
    {
        _sweeper.Dispose();
        Unsubscribe();

        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }
    }

    private void Unsubscribe()
    {
        foreach (var subscription in _subscriptions)
        {
            subscription.Dispose();
        }
    }

    /// <summary>Releases idle tenants of every client; the timer calls it, and tests may.</summary>
    internal void Sweep()
    {
        foreach (var client in _clients.Values)
        {
            var released = client.Sweep();
            if (released > 0)
            {
                Log.TenantsReleased(_runtime.FactoryLogger, client.Definition.Name, released, client.TenantCount);
            }
        }
    }

    private NamedClient Create(string name)
    {
        if (!Registry.Contains(name))
        {
            throw new InvalidOperationException(
                $"No token client named '{name}' is registered; register it with services.AddTokenClient(\"{name}\", ...). Registered: {Registry.Describe()}.");
        }

        lock (_gate)
        {
            if (_clients.TryGetValue(name, out var existing))
            {
                return existing;
            }

            var client = new NamedClient(Define(name), _runtime); // throws OptionsValidationException naming the key
            _clients = new(_clients, StringComparer.Ordinal) { [name] = client };
            return client;
        }
    }

    // The options validation built, if nothing changed since; else built now. Under _gate.
    private ClientDefinition Define(string name) =>
        ClientDefinition.Build(name, _validated!.Remove(name, out var validated) ? validated : _options.Create(name), _runtime.Time, _runtime.EndpointLogger, _runtime.Providers);

    private void Reload(string? name)
    {
        // Under the gate: a client being built meanwhile gets these options, and two changes apply in order.
        lock (_gate)
        {
            // A client not used yet is built from the options of the day it is first used, not those validated before.
            _changes++;
            if (name is not null)
            {
                _validated?.Remove(name);
            }

            if (name is null || !_clients.TryGetValue(name, out var client))
            {
                return;
            }

            try
            {
                var options = _options.Create(name);
                if (OptionKeys.Same(options, client.Definition.Options))
                {
                    return; // a provider's periodic refresh that changed nothing costs nothing
                }

                client.Update(ClientDefinition.Build(name, options, _runtime.Time, _runtime.EndpointLogger, _runtime.Providers));
                Log.ConfigurationApplied(_runtime.FactoryLogger, name);
            }
#pragma warning disable CA1031 // Whatever a configuration callback throws, the last valid definition keeps running.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                var problems = ex is OptionsValidationException invalid ? string.Join(" ", invalid.Failures) : ex.Message;
                Log.ConfigurationRejected(_runtime.FactoryLogger, name, problems);
            }
        }
    }
}
