namespace WorkerService;

/// <summary>A typed client of the API the worker calls; its HttpClient carries the token handler.</summary>
public sealed class OrdersApi(HttpClient http)
{
    public Task<string> GreetingAsync(CancellationToken cancellationToken) => http.GetStringAsync("api/generic/greeting", cancellationToken);
}
