using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Errors;
using Xunit;

namespace Sessions.Testing.Fuzz;

/// <summary>
/// Fuzzes one endpoint's JSON body decoder without HTTP, fast enough for 10,000 cases per test: each body is read as the
/// endpoint's minimal-API binding reads it (the service's <see cref="JsonOptions"/>); a body that does not bind must fail with
/// a <see cref="JsonException"/> (anything else would escape as a 500) and the problem ServiceDefaults answers for it
/// (<see cref="BadRequestProblems"/>) must pass <see cref="JsonFuzzOracle"/>. Returns how many bodies bound.
/// </summary>
public static class JsonBodyDecoderFuzz
{
    public static async Task<int> RunAsync<TBody>(IServiceProvider services, IReadOnlyList<string> valid, int seed, int count = 10_000)
    {
        var options = services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var fuzz = new JsonFuzz(seed);
        var (index, bound) = (0, 0);
        foreach (var body in fuzz.Cases(valid, count))
        {
            try
            {
                if (body.Length == 0) continue; // binding answers an empty body before reading it (missing-body)
                JsonSerializer.Deserialize<TBody>(Encoding.UTF8.GetBytes(body), options);
                bound++;
            }
            catch (JsonException exception)
            {
                var context = new DefaultHttpContext { RequestServices = services };
                context.Request.Method = "POST";
                context.Response.Body = new MemoryStream();
                await BadRequestProblems.For(new BadHttpRequestException("Failed to read the request body as JSON.", 400, exception)).ExecuteAsync(context);
                context.Response.Body.Position = 0;
                using var response = new HttpResponseMessage((System.Net.HttpStatusCode)context.Response.StatusCode)
                {
                    Content = new StreamContent(context.Response.Body),
                };
                response.Content.Headers.TryAddWithoutValidation("Content-Type", context.Response.ContentType);
                await JsonFuzzOracle.AssertSafeAsync(response, fuzz, index, body);
            }
            catch (Exception exception)
            {
                Assert.Fail($"seed {seed} case {index}: {body} escaped as {exception.GetType().Name}: {exception.Message}");
            }
            finally
            {
                index++;
            }
        }
        return bound;
    }

    /// <summary>
    /// Fuzzes a reader that must never throw for any body (it answers "not a message" instead): <paramref name="read"/> gets
    /// the UTF-8 bytes and says whether it read a message. Returns how many it read.
    /// </summary>
    public static int RunReader(IReadOnlyList<string> valid, int seed, Func<byte[], bool> read, int count = 10_000)
    {
        var fuzz = new JsonFuzz(seed);
        var (index, accepted) = (0, 0);
        foreach (var body in fuzz.Cases(valid, count))
        {
            try
            {
                if (read(Encoding.UTF8.GetBytes(body))) accepted++;
            }
            catch (Exception exception)
            {
                Assert.Fail($"seed {seed} case {index}: {body} escaped as {exception.GetType().Name}: {exception.Message}");
            }
            index++;
        }
        return accepted;
    }
}
