using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace ZeroDL.Web;

/// <summary>
/// The outermost middleware, registered as the first startup filter so that it wraps even host filtering (which the
/// web host's defaults put in front of the app's own pipeline): the security headers (<see cref="SecurityHeaders"/>), the
/// exception handler for the server's own failures (a 500, logged with its stack), and <see cref="RequestErrors"/>,
/// which answers and logs the client's mistakes in one line each. So a request refused for its Host header also gets the
/// headers and its log line.
/// </summary>
public sealed class OuterPipeline(long maxBodyBytes) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseSecurityHeaders();
        app.UseExceptionHandler(errors => errors.Run(async context =>
        {
            context.Response.StatusCode = 500;
            await context.Response.WriteAsJsonAsync(new { error = "internal error" });
        }));
        app.UseMiddleware<RequestErrors>(maxBodyBytes);
        next(app);
    };
}
