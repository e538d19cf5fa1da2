using Microsoft.AspNetCore.Http;

namespace ZeroDL.Web;

/// <summary>
/// A prediction request sent as an HTML form or <c>curl -F image=@digit.png</c> does: multipart/form-data with the
/// image in the file field "image" and, optionally, the model in the field "model". The whole body is bounded by the
/// server's body limit (413 above it); a malformed form is a 400.
/// </summary>
public static class MultipartUpload
{
    /// <summary>The uploaded file's bytes and the "model" field (null when absent).</summary>
    public static async Task<(byte[] Image, string? Model)> Read(HttpContext context, long maxBodyBytes)
    {
        IFormCollection form;
        try { form = await context.Request.ReadFormAsync(context.RequestAborted); }
        catch (InvalidDataException e) { throw new BadRequestException(400, "the multipart form cannot be read: " + e.Message); }
        // A body that ends inside a part ("Unexpected end of Stream"); Kestrel's own 413 and a client gone are not this.
        catch (IOException e) when (e is not BadHttpRequestException && !context.RequestAborted.IsCancellationRequested)
        { throw new BadRequestException(400, "the multipart form cannot be read: " + e.Message); }
        var file = form.Files.GetFile("image")
            ?? throw new BadRequestException(400, "the form needs a file field \"image\" (a PNG), e.g. curl -F image=@digit.png");
        if (file.Length > maxBodyBytes) throw new BadRequestException(413, $"the body is larger than {maxBodyBytes:N0} bytes");
        var bytes = new byte[file.Length];
        await using (var stream = file.OpenReadStream()) await stream.ReadExactlyAsync(bytes, context.RequestAborted);
        string? model = form.TryGetValue("model", out var m) && m.Count > 0 && !string.IsNullOrEmpty(m[0]) ? m[0] : null;
        return (bytes, model);
    }
}
