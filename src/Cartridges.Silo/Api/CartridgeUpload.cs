// POST /v1/cartridges as multipart/form-data: text fields name, model, size_tokens, start, and synthesis / training
// as JSON; a file part named "cartridge" is an already trained cartridge (safetensors, e.g. from `cartridges train`)
// to serve at once; every other file part (and any "corpus" text field) is corpus text, joined in order by blank lines.
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace Cartridges.Silo.Api;

/// <summary>Reads a multipart cartridge upload into a request and its corpus.</summary>
internal static class CartridgeUpload
{
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static bool IsMultipart(HttpRequest request) =>
        request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>The form field of a trained cartridge file to import.</summary>
    public const string CartridgeField = "cartridge";

    public static async Task<(CreateCartridgeRequest Request, string Corpus, byte[]? CartridgeFile)> ReadAsync(HttpContext http, long maxBytes)
    {
        RequestBody.Limit(http, maxBytes);
        var limit = (int)Math.Min(int.MaxValue, maxBytes);
        http.Features.Set<IFormFeature>(new FormFeature(http.Request, new FormOptions { MultipartBodyLengthLimit = maxBytes, ValueLengthLimit = limit }));
        IFormCollection form;
        try
        {
            form = await http.Request.ReadFormAsync(http.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw RequestBody.TooLarge(maxBytes);
        }
        catch (InvalidDataException e) when (e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            throw RequestBody.TooLarge(maxBytes);
        }
        catch (InvalidDataException e)
        {
            throw ApiError.BadRequest($"The multipart body is malformed: {e.Message}", code: "invalid_multipart");
        }

        var corpus = new List<string>();
        byte[]? cartridge = null;
        if (form["corpus"] is { Count: > 0 } texts) corpus.AddRange(texts.Where(t => t is not null)!);
        foreach (var file in form.Files)
        {
            using var stream = file.OpenReadStream();
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, http.RequestAborted);
            if (file.Name == CartridgeField)
            {
                cartridge = cartridge is null ? buffer.ToArray() : throw ApiError.BadRequest("Upload one cartridge file at most.", CartridgeField);
                continue;
            }
            try
            {
                corpus.Add(StrictUtf8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            }
            catch (DecoderFallbackException)
            {
                throw ApiError.BadRequest($"Corpus file '{file.FileName}' is not UTF-8 text.", file.Name, "invalid_corpus");
            }
        }
        var request = new CreateCartridgeRequest
        {
            Name = form["name"].FirstOrDefault(),
            Model = form["model"].FirstOrDefault(),
            SizeTokens = Number(form, "size_tokens"),
            Start = form["start"].FirstOrDefault() is { } start ? start is "true" or "1" : null,
            Synthesis = Json<SynthesisDto>(form, "synthesis"),
            Training = Json<TrainingDto>(form, "training"),
        };
        return (request, string.Join("\n\n", corpus), cartridge);
    }

    static int? Number(IFormCollection form, string field) =>
        form[field].FirstOrDefault() is not { Length: > 0 } text ? null
        : int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value
        : throw ApiError.BadRequest($"'{field}' must be an integer (got '{text}').", field);

    static T? Json<T>(IFormCollection form, string field) where T : class
    {
        if (form[field].FirstOrDefault() is not { Length: > 0 } text) return null;
        try
        {
            return JsonSerializer.Deserialize<T>(text, CartridgesEndpoints.StrictJson);
        }
        catch (JsonException e)
        {
            throw ApiError.BadRequest($"'{field}' must be a JSON object of {field} settings: {e.Message}", field);
        }
    }
}
