using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace ZeroDL.Web;

/// <summary>
/// The endpoints that change state take JSON only: a request with another Content-Type (or none) gets 415 before the
/// handler runs. A cross-site page can send text/plain, form or multipart bodies without asking, but application/json
/// needs a CORS preflight, which this server never answers with permission.
/// </summary>
public static class JsonContentType
{
    /// <summary>Whether the Content-Type is application/json or a +json type (any charset).</summary>
    public static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var type)
        && (type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase));

    /// <summary>Refuses requests to this endpoint whose body is not declared as JSON, with 415.</summary>
    public static RouteHandlerBuilder RequireJson(this RouteHandlerBuilder endpoint) => endpoint.AddEndpointFilter(async (context, next) =>
    {
        if (!IsJson(context.HttpContext.Request.ContentType))
            throw new BadRequestException(415, "this endpoint takes JSON: send Content-Type: application/json");
        return await next(context);
    });
}
