using System.Text;

namespace Sessions.Payments.Mpp;

/// <summary>One RFC 9110 challenge or credential: a scheme with either a token68 or auth-params.</summary>
public sealed record AuthChallenge(string Scheme, string? Token68, IReadOnlyDictionary<string, string> Parameters);

/// <summary>
/// RFC 9110 §11 auth-scheme / auth-param syntax for WWW-Authenticate and Authorization values:
/// <c>Payment id="..", realm="..", method=token</c>, several challenges per value separated by commas,
/// quoted-strings with backslash escapes. Parameter names are case-insensitive; a repeated one is an error.
/// </summary>
public static class AuthParams
{
    private const string TokenSpecials = "!#$%&'*+-.^_`|~";

    public static bool TryParse(string? headerValue, out IReadOnlyList<AuthChallenge> challenges, out string? error)
    {
        var parser = new Parser(headerValue ?? "");
        var result = new List<AuthChallenge>();
        challenges = result;
        error = null;
        try
        {
            parser.ParseAll(result);
            return true;
        }
        catch (FormatException exception)
        {
            challenges = [];
            error = exception.Message;
            return false;
        }
    }

    /// <summary>Formats <c>Scheme name="value", ...</c>; every value quoted, '"' and '\' escaped.</summary>
    public static string Format(string scheme, IEnumerable<KeyValuePair<string, string>> parameters)
    {
        if (!IsToken(scheme))
            throw new ArgumentException($"'{scheme}' is not a valid auth-scheme token.", nameof(scheme));
        var builder = new StringBuilder(scheme);
        var first = true;
        foreach (var (name, value) in parameters)
        {
            if (!IsToken(name))
                throw new ArgumentException($"'{name}' is not a valid auth-param name.", nameof(parameters));
            if (value.Any(c => c is < ' ' and not '\t' || c == '\x7f'))
                throw new ArgumentException($"Value of '{name}' contains control characters.", nameof(parameters));
            builder.Append(first ? " " : ", ").Append(name).Append("=\"");
            foreach (var c in value)
            {
                if (c is '"' or '\\')
                    builder.Append('\\');
                builder.Append(c);
            }
            builder.Append('"');
            first = false;
        }
        return builder.ToString();
    }

    public static bool IsToken(string text) => text.Length > 0 && text.All(IsTokenChar);

    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || TokenSpecials.Contains(c);

    private static bool IsToken68Char(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '+' or '/';

    private sealed class Parser(string text)
    {
        private int _position;

        public void ParseAll(List<AuthChallenge> output)
        {
            while (true)
            {
                SkipWhitespaceAndCommas();
                if (AtEnd)
                    return;
                output.Add(ParseChallenge());
            }
        }

        private bool AtEnd => _position >= text.Length;

        private AuthChallenge ParseChallenge()
        {
            var scheme = ReadToken() ?? throw Error("expected an auth-scheme");
            var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (AtEnd || text[_position] == ',')
                return new AuthChallenge(scheme, null, parameters);
            if (text[_position] != ' ' && text[_position] != '\t')
                throw Error("expected a space after the auth-scheme");
            SkipWhitespace();

            if (TryReadToken68(out var token68))
                return new AuthChallenge(scheme, token68, parameters);

            while (!AtEnd)
            {
                var start = _position;
                var name = ReadToken() ?? throw Error("expected an auth-param name");
                SkipWhitespace();
                if (AtEnd || text[_position] != '=')
                {
                    // "name" without "=" after a comma starts the next challenge.
                    if (parameters.Count == 0)
                        throw Error($"expected '=' after '{name}'");
                    _position = start;
                    break;
                }
                _position++;
                SkipWhitespace();
                var value = !AtEnd && text[_position] == '"' ? ReadQuotedString() : ReadToken() ?? throw Error($"expected a value for '{name}'");
                if (!parameters.TryAdd(name, value))
                    throw Error($"parameter '{name}' is repeated");
                SkipWhitespace();
                if (AtEnd)
                    break;
                if (text[_position] != ',')
                    throw Error("expected ',' between auth-params");
                SkipWhitespaceAndCommas();
            }
            return new AuthChallenge(scheme, null, parameters);
        }

        /// <summary>token68 = 1*(ALPHA / DIGIT / "-._~+/") *"=", then end of value or a comma.</summary>
        private bool TryReadToken68(out string? token68)
        {
            token68 = null;
            var end = _position;
            while (end < text.Length && IsToken68Char(text[end]))
                end++;
            if (end == _position)
                return false;
            while (end < text.Length && text[end] == '=')
                end++;
            var after = end;
            while (after < text.Length && text[after] is ' ' or '\t')
                after++;
            // "name=value" starts like "token68=": only the end of the value or a comma right after makes it token68.
            if (after < text.Length && text[after] != ',')
                return false;
            token68 = text[_position..end];
            _position = after;
            return true;
        }

        private string? ReadToken()
        {
            var start = _position;
            while (!AtEnd && IsTokenChar(text[_position]))
                _position++;
            return _position > start ? text[start.._position] : null;
        }

        private string ReadQuotedString()
        {
            _position++; // opening quote
            var builder = new StringBuilder();
            while (!AtEnd)
            {
                var c = text[_position++];
                if (c == '"')
                    return builder.ToString();
                if (c == '\\')
                {
                    if (AtEnd)
                        break;
                    c = text[_position++];
                }
                if (c is < ' ' and not '\t' || c == '\x7f')
                    throw Error("control character inside a quoted-string");
                builder.Append(c);
            }
            throw Error("unterminated quoted-string");
        }

        private void SkipWhitespace()
        {
            while (!AtEnd && text[_position] is ' ' or '\t')
                _position++;
        }

        private void SkipWhitespaceAndCommas()
        {
            while (!AtEnd && text[_position] is ' ' or '\t' or ',')
                _position++;
        }

        private FormatException Error(string message) => new($"{message} at position {_position}");
    }
}
