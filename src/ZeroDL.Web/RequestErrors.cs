using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace ZeroDL.Web;

/// <summary>
/// Answers a request the client got wrong: a <see cref="BadRequestException"/> (or Kestrel's own bad-request error, such
/// as a body over the limit) becomes its 4xx status with {"error": message}, and every 4xx response, whatever produced
/// it (host filtering, the rate limiter, a missing file), is logged as one line at Information: method, path, status and
/// message, without a stack trace. A client's mistake is not the server's error; real failures (500) still reach the
/// exception handler, which logs them with their stack.
/// </summary>
public sealed class RequestErrors(RequestDelegate next, ILogger<RequestErrors> log, long maxBodyBytes)
{
    /// <summary>Where a component that writes its own 4xx (the rate limiter) leaves its message for the log line.</summary>
    public const string MessageKey = "ZeroDL.Web.Error";

    public async Task InvokeAsync(HttpContext context)
    {
        try { await next(context); }
        catch (Exception e) when (e is BadRequestException or BadHttpRequestException && !context.Response.HasStarted)
        {
            var (status, message) = e switch
            {
                BadRequestException bad => (bad.Status, bad.Message),
                BadHttpRequestException { StatusCode: 413 } => (413, $"the body is larger than {maxBodyBytes:N0} bytes"),
                BadHttpRequestException http => (http.StatusCode, http.Message),
                _ => throw new InvalidOperationException("unreachable"),
            };
            context.Response.Clear();
            context.Response.StatusCode = status;
            context.Items[MessageKey] = message;
            await context.Response.WriteAsJsonAsync(new { error = message });
        }
        int code = context.Response.StatusCode;
        if (code is >= 400 and < 500)
            log.LogInformation("{Method} {Path} -> {Status}: {Message}", context.Request.Method, context.Request.Path.Value,
                code, context.Items[MessageKey] as string ?? ReasonPhrases.GetReasonPhrase(code));
    }
}
