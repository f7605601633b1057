using System.Text;

namespace ServiceDefaults.Tests.Telemetry;

/// <summary>
/// Reads the few fields the tests need from an OTLP ExportTraceServiceRequest (opentelemetry-proto trace.proto):
/// resource attributes and span names with their attributes. A minimal protobuf walker, no generated code.
/// </summary>
public static class OtlpTraceReader
{
    public sealed record Span(string Scope, string Name, IReadOnlyDictionary<string, string> Attributes);

    public sealed record ResourceSpans(IReadOnlyDictionary<string, string> Resource, IReadOnlyList<Span> Spans);

    public static IReadOnlyList<ResourceSpans> Read(byte[] body)
    {
        var result = new List<ResourceSpans>();
        foreach (var resourceSpans in Fields(body).Where(f => f.Number == 1))           // TracesData.resource_spans
        {
            var resource = new Dictionary<string, string>();
            var spans = new List<Span>();
            foreach (var field in Fields(resourceSpans.Bytes))
            {
                if (field.Number == 1)                                                  // ResourceSpans.resource
                    ReadAttributes(field.Bytes, 1, resource);                           // Resource.attributes
                else if (field.Number == 2)                                             // ResourceSpans.scope_spans
                {
                    var scope = "";
                    foreach (var scopeField in Fields(field.Bytes))
                    {
                        if (scopeField.Number == 1)                                     // ScopeSpans.scope
                            scope = Fields(scopeField.Bytes).Where(f => f.Number == 1).Select(f => Encoding.UTF8.GetString(f.Bytes)).FirstOrDefault() ?? "";
                        else if (scopeField.Number == 2)                                // ScopeSpans.spans
                        {
                            var name = "";
                            var attributes = new Dictionary<string, string>();
                            foreach (var spanField in Fields(scopeField.Bytes))
                            {
                                if (spanField.Number == 5)                              // Span.name
                                    name = Encoding.UTF8.GetString(spanField.Bytes);
                                else if (spanField.Number == 9)                         // Span.attributes
                                    ReadKeyValue(spanField.Bytes, attributes);
                            }
                            spans.Add(new Span(scope, name, attributes));
                        }
                    }
                }
            }
            result.Add(new ResourceSpans(resource, spans));
        }
        return result;
    }

    public static IEnumerable<Span> Spans(IEnumerable<byte[]> batches) => batches.SelectMany(Read).SelectMany(r => r.Spans);

    static void ReadAttributes(byte[] message, int fieldNumber, Dictionary<string, string> into)
    {
        foreach (var field in Fields(message).Where(f => f.Number == fieldNumber))
            ReadKeyValue(field.Bytes, into);
    }

    // KeyValue { string key = 1; AnyValue value = 2; }  AnyValue { string string_value = 1; bool = 2; int64 int_value = 3; ... }
    static void ReadKeyValue(byte[] keyValue, Dictionary<string, string> into)
    {
        string? key = null, value = null;
        foreach (var field in Fields(keyValue))
        {
            if (field.Number == 1)
                key = Encoding.UTF8.GetString(field.Bytes);
            else if (field.Number == 2)
            {
                foreach (var any in Fields(field.Bytes))
                    value = any.Number switch
                    {
                        1 => Encoding.UTF8.GetString(any.Bytes),
                        2 or 3 => any.Varint.ToString(),
                        _ => value,
                    };
            }
        }
        if (key is not null)
            into[key] = value ?? "";
    }

    readonly record struct Field(int Number, ulong Varint, byte[] Bytes);

    static IEnumerable<Field> Fields(byte[] message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var tag = ReadVarint(message, ref position);
            var number = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    yield return new Field(number, ReadVarint(message, ref position), []);
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    yield return new Field(number, 0, message[position..(position + length)]);
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type in tag {tag}.");
            }
        }
    }

    static ulong ReadVarint(byte[] buffer, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = buffer[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                return value;
        }
    }
}
