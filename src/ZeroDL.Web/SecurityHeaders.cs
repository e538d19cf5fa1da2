using Microsoft.AspNetCore.Builder;

namespace ZeroDL.Web;

/// <summary>
/// Headers on every response, error pages and refusals included: a Content-Security-Policy that allows only this
/// server's own scripts, styles, images and fetches (the pages have no inline script or style) and no framing, plus
/// X-Content-Type-Options: nosniff, X-Frame-Options: DENY (for browsers without frame-ancestors) and a Referrer-Policy
/// that keeps URLs on this origin.
/// </summary>
public static class SecurityHeaders
{
    /// <summary>The policy: 'self' for everything the pages load, nothing else, and no page may frame this one.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// Adds the headers when the response starts (so that they survive the exception handler, which clears the
    /// headers set before it).
    /// </summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var response = context.Response;
        response.OnStarting(() =>
        {
            response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            response.Headers.XContentTypeOptions = "nosniff";
            response.Headers.XFrameOptions = "DENY";
            response.Headers["Referrer-Policy"] = "same-origin";
            return Task.CompletedTask;
        });
        return next(context);
    });
}
