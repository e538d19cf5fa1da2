using Microsoft.AspNetCore.Http;

namespace ZeroDL.Web;

/// <summary>
/// The cross-site request check for requests that can change state (every method but GET, HEAD, OPTIONS and TRACE).
/// A browser sends <c>Origin</c> on every cross-origin POST, and a page cannot suppress or forge it, so: when
/// <c>Origin</c> is present it must be this server's own origin (scheme, host and port of the request, whose Host header
/// host filtering has already checked); without it, <c>Referer</c> is checked the same way; <c>Sec-Fetch-Site</c>, when
/// present, must be "same-origin" or "none". A request with none of these headers does not come from a web page (curl,
/// scripts) and passes. Together with the JSON content type the state-changing endpoints require
/// (<see cref="JsonContentType"/>), which a cross-site form or "simple" fetch cannot send without a CORS preflight that
/// this server never grants, another site cannot make a visitor's browser start or cancel a run.
/// </summary>
public static class SameOriginPolicy
{
    /// <summary>Whether requests of this method are checked: every method that is not defined as safe.</summary>
    public static bool AppliesTo(string method) =>
        !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method));

    /// <summary>Why the request is refused as cross-site, or null when it passes.</summary>
    public static string? Refusal(HttpRequest request)
    {
        if (!AppliesTo(request.Method)) return null;
        string site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0 && site is not ("same-origin" or "none"))
            return $"cross-site request refused (Sec-Fetch-Site: {site})";
        string own = Origin(request.Scheme, request.Host.Value);
        string origin = request.Headers.Origin.ToString();
        if (origin.Length > 0)
            return SameOrigin(origin, own) ? null : $"cross-site request refused: Origin {origin} is not this server ({own})";
        string referer = request.Headers.Referer.ToString();
        if (referer.Length > 0)
            return SameOrigin(referer, own) ? null : "cross-site request refused: the Referer is not a page of this server";
        return null;
    }

    /// <summary>"scheme://host[:port]" normalized by <see cref="Uri"/> (default ports dropped, lower case), or "" when not a URL.</summary>
    private static string Origin(string scheme, string? host) =>
        Uri.TryCreate($"{scheme}://{host}/", UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority) : "";

    private static bool SameOrigin(string url, string own) =>
        own.Length > 0 && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
        && string.Equals(uri.GetLeftPart(UriPartial.Authority), own, StringComparison.OrdinalIgnoreCase);
}
