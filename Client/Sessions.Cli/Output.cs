using System.Text.Json;

namespace Sessions.Cli;

/// <summary>Human output: aligned key/value lines and tables.</summary>
public static class Output
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerOptions.Web) { WriteIndented = true };

    public static void Fields(params (string Name, string? Value)[] fields)
    {
        var width = fields.Max(f => f.Name.Length);
        foreach (var (name, value) in fields)
            Console.Out.WriteLine($"{name.PadRight(width)}  {value ?? "-"}");
    }

    public static void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string?>> rows)
    {
        var all = rows.Select(r => r.Select(v => v ?? "-").ToArray()).ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => r[i].Length))).ToArray();
        Console.Out.WriteLine(Line(headers.ToArray(), widths));
        foreach (var row in all)
            Console.Out.WriteLine(Line(row, widths));
    }

    static string Line(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
}
