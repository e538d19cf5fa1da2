using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace ZeroDL.Web;

/// <summary>
/// Request limits of the web app, enforced by ASP.NET Core's rate limiter; a request over a limit gets 429 with
/// {"error": …} (and Retry-After when known). Per client means per remote IP address.
/// </summary>
public sealed record RateLimits
{
    /// <summary>Name of the rate-limiter policy of POST /api/predict.</summary>
    public const string PredictPolicy = "predict";

    /// <summary>Name of the rate-limiter policy of POST /api/train.</summary>
    public const string TrainPolicy = "train";

    /// <summary>
    /// Predictions a client may ask for per <see cref="PredictWindow"/>: 10,000 a second. One client on this 2-core
    /// machine gets at most about 3,000 a second out of the server, so a single user is never cut here; the limit
    /// keeps one client from taking a larger machine whole.
    /// </summary>
    public int PredictLimit { get; init; } = 10_000;

    /// <summary>The window of <see cref="PredictLimit"/>: one second.</summary>
    public TimeSpan PredictWindow { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Predictions computed at once, over all clients: 16. The rest wait in a queue; each prediction holds its upload and
    /// decoded image, so this bounds the memory of many large PNGs at once. Two cores run two at a time anyway.
    /// </summary>
    public int PredictConcurrency { get; init; } = 16;

    /// <summary>Predictions that may wait for one of the <see cref="PredictConcurrency"/> places: 1,024; more get 429.</summary>
    public int PredictQueue { get; init; } = 1024;

    /// <summary>
    /// Training requests (POST /api/train) a client may make per <see cref="TrainWindow"/>: 10 a minute. Only one run
    /// goes at a time anyway; this bounds the requests refused with 409 or 400 as well.
    /// </summary>
    public int TrainLimit { get; init; } = 10;

    /// <summary>The window of <see cref="TrainLimit"/>: one minute.</summary>
    public TimeSpan TrainWindow { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Registers the limiter: the per-client policies and the global bound on predictions at once.</summary>
    internal void AddTo(IServiceCollection services) => services.AddRateLimiter(options =>
    {
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.AddPolicy(PredictPolicy, context => RateLimitPartition.GetTokenBucketLimiter(Client(context), _ => Bucket(PredictLimit, PredictWindow)));
        options.AddPolicy(TrainPolicy, context => RateLimitPartition.GetTokenBucketLimiter(Client(context), _ => Bucket(TrainLimit, TrainWindow)));
        options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            context.Request.Path.StartsWithSegments("/api/predict")
                ? RateLimitPartition.GetConcurrencyLimiter(PredictPolicy, _ => new ConcurrencyLimiterOptions
                    { PermitLimit = PredictConcurrency, QueueLimit = PredictQueue, QueueProcessingOrder = QueueProcessingOrder.OldestFirst })
                : RateLimitPartition.GetNoLimiter(""));
        options.OnRejected = async (rejected, cancel) =>
        {
            var context = rejected.HttpContext;
            string message = "too many requests: ";
            if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry))
            {
                context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                message += $"try again in {Math.Ceiling(retry.TotalSeconds)} s";
            }
            else message += "the server is busy, try again shortly";
            context.Items[RequestErrors.MessageKey] = message;
            await context.Response.WriteAsJsonAsync(new { error = message }, cancel);
        };
    });

    private static string Client(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static TokenBucketRateLimiterOptions Bucket(int limit, TimeSpan window) => new()
    {
        TokenLimit = limit, TokensPerPeriod = limit, ReplenishmentPeriod = window, QueueLimit = 0, AutoReplenishment = true,
    };
}
