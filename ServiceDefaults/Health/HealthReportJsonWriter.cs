using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sessions.ServiceDefaults.Health;

/// <summary>
/// Writes a health report as <c>{"status","totalDuration","checks":{name:{"status","duration","description","tags"}}}</c>.
/// Exception details stay in the logs: the description is the check's own (or the exception's message).
/// <see cref="WriteStatusAsync"/> writes <c>{"status"}</c> only, for endpoints outsiders reach.
/// </summary>
public static class HealthReportJsonWriter
{
    public static async Task WriteStatusAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }

    public static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteString("totalDuration", report.TotalDuration.ToString("c"));
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString());
            json.WriteString("duration", entry.Duration.ToString("c"));
            var description = entry.Description ?? entry.Exception?.Message;
            if (description is not null)
                json.WriteString("description", description);
            json.WriteStartArray("tags");
            foreach (var tag in entry.Tags)
                json.WriteStringValue(tag);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }
}
