using System.Globalization;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>
/// The identifiers of the people events are about, each its own field, its own check and its own permission in an
/// agreement: a BIS number is not a rijksregisternummer, an onderwijsnummer is not a BSN.
/// </summary>
public static class SubjectIdentifiers
{
    /// <summary>
    /// BSN (burgerservicenummer), in education the PGN: nine digits, 9·d1 + 8·d2 + … + 2·d8 − d9 divisible by 11
    /// (the "elfproef", Wet algemene bepalingen burgerservicenummer; as python-stdnum <c>nl/bsn.py</c> implements it).
    /// </summary>
    public static bool IsValidBsn(string bsn) =>
        bsn.Length == 9 && bsn.All(char.IsAsciiDigit) && bsn != "000000000" && ElevenTestRemainder(bsn) == 0;

    /// <summary>
    /// Onderwijsnummer: the number DUO gives a pupil who has no BSN, used in its place (the PGN). Nine digits starting
    /// with <c>10</c>, and the BSN's weighted sum leaves remainder 5 modulo 11 instead of 0, so no onderwijsnummer is
    /// a valid BSN. Source: python-stdnum <c>nl/onderwijsnummer.py</c> (arthurdejong.org/python-stdnum), which cites
    /// DUO's BRON specification; not checked against DUO's own current text here.
    /// </summary>
    public static bool IsValidOnderwijsnummer(string value) =>
        value.Length == 9 && value.All(char.IsAsciiDigit) && value.StartsWith("10", StringComparison.Ordinal) && ElevenTestRemainder(value) == 5;

    /// <summary>
    /// Rijksregisternummer (national register number): eleven digits (dots, dashes and spaces allowed between),
    /// yymmdd, a serial of three, and a check of two: 97 − (first nine mod 97), over 2 followed by the nine for births
    /// from 2000 on. The month is 01 to 12, or 00 when the birth date is not known. A BIS number (month + 20 or + 40)
    /// is not one: see <see cref="IsValidBisNumber"/>.
    /// </summary>
    public static bool IsValidRijksregisternummer(string value) =>
        Mod97Digits(value, out var digits) && Month(digits) is >= 0 and <= 12;

    /// <summary>
    /// BIS number: the Crossroads Bank for Social Security's number for a person not in the national register. The
    /// same shape and check as the rijksregisternummer, with the month raised by 40 when the gender is known at
    /// registration or by 20 when it is not (so 20 to 32, or 40 to 52; 20 or 40 alone when the birth month is
    /// unknown). Source: python-stdnum <c>be/bis.py</c>; DOMAIN.md.
    /// </summary>
    public static bool IsValidBisNumber(string value) =>
        Mod97Digits(value, out var digits) && Month(digits) is (>= 20 and <= 32) or (>= 40 and <= 52);

    /// <summary>The eleven digits of a Belgian national number, without separators; empty when it has another shape.</summary>
    public static string Digits(string value)
    {
        var digits = string.Concat(value.Where(c => c is not ('.' or '-' or ' ')));
        return digits.Length == 11 && digits.All(char.IsAsciiDigit) ? digits : "";
    }

    static bool Mod97Digits(string value, out string digits)
    {
        digits = Digits(value);
        if (digits.Length == 0)
        {
            return false;
        }

        var body = long.Parse(digits.AsSpan(0, 9), CultureInfo.InvariantCulture);
        var check = int.Parse(digits.AsSpan(9, 2), CultureInfo.InvariantCulture);
        return 97 - (body % 97) == check || 97 - ((2_000_000_000 + body) % 97) == check;
    }

    static int Month(string digits) => (digits[2] - '0') * 10 + (digits[3] - '0');

    static int ElevenTestRemainder(string nine)
    {
        var sum = 0;
        for (var i = 0; i < 8; i++)
        {
            sum += (9 - i) * (nine[i] - '0');
        }

        sum -= nine[8] - '0';
        return ((sum % 11) + 11) % 11;
    }
}

/// <summary>
/// The identifiers an institution is known by, as its events name it in <c>source.institutionId</c> and as the
/// controller registry lists it. Each scheme belongs to one legal order.
/// </summary>
public static class InstitutionIdentifiers
{
    /// <summary>BRIN: DUO's institution code, two digits and two capitals, optionally a two-digit branch (<c>12AB</c>, <c>12AB01</c>).</summary>
    public const string Brin = "brin";

    /// <summary>Kamer van Koophandel (Dutch trade register) number: eight digits, for a care centre or course provider with no BRIN.</summary>
    public const string Kvk = "kvk";

    /// <summary>
    /// Organisatie-identificatienummer (Logius, Digikoppeling): twenty positions, an eight-digit prefix naming the
    /// register (<c>00000001</c> RSIN, <c>00000003</c> KvK, <c>00000007</c> BRIN, ...), then the number (letters allowed) and
    /// a suffix. It carries no check digit of its own. Source: Logius-standaarden/OIN-Stelsel, "Data Architectuur".
    /// </summary>
    public const string Oin = "oin";

    /// <summary>
    /// The Flemish Departement Onderwijs's institution number (instellingsnummer): six digits (leading zeros kept:
    /// <c>030569</c>). No check digit is published that we could find, so only the shape is checked.
    /// </summary>
    public const string Instellingsnummer = "instellingsnummer";

    /// <summary>KBO/BCE enterprise number (ondernemingsnummer): ten digits, the last two 97 − (first eight mod 97).</summary>
    public const string Kbo = "kbo";

    /// <summary>The schemes of each jurisdiction.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> ByJurisdiction = new Dictionary<string, IReadOnlyList<string>>
    {
        ["NL"] = [Brin, Kvk, Oin],
        ["BE-VLG"] = [Instellingsnummer, Kbo],
    };

    public static IReadOnlyList<string> All { get; } = [Brin, Kvk, Oin, Instellingsnummer, Kbo];

    /// <summary>Whether <paramref name="value"/> is well formed for <paramref name="scheme"/>, its check digits included.</summary>
    public static bool IsValid(string scheme, string value) => scheme switch
    {
        Brin => value.Length is 4 or 6 && char.IsAsciiDigit(value[0]) && char.IsAsciiDigit(value[1])
            && char.IsAsciiLetterUpper(value[2]) && char.IsAsciiLetterUpper(value[3]) && value.Skip(4).All(char.IsAsciiDigit),
        // No check digit is published for KvK numbers (kvk.nl: "8 digits"); python-stdnum has none either. Shape only.
        Kvk => value.Length == 8 && value.All(char.IsAsciiDigit),
        Oin => value.Length == 20 && value.Take(8).All(char.IsAsciiDigit) && value.Skip(8).All(c => char.IsAsciiDigit(c) || char.IsAsciiLetterUpper(c)),
        Instellingsnummer => value.Length == 6 && value.All(char.IsAsciiDigit),
        Kbo => IsValidKbo(value),
        _ => false,
    };

    /// <summary>
    /// KBO/BCE enterprise number: ten digits starting with 0 or 1, written without the dots of <c>0507.873.093</c>
    /// (one spelling per institution: the sender's id is part of a subject's pseudonym and of the ledger), the last two
    /// equal to 97 − (the first eight mod 97). Source: the FPS Economy's KBO documentation as python-stdnum
    /// <c>be/vat.py</c> implements it.
    /// </summary>
    public static bool IsValidKbo(string value)
    {
        var digits = value;
        if (digits.Length != 10 || !digits.All(char.IsAsciiDigit) || digits[0] is not ('0' or '1'))
        {
            return false;
        }

        var body = int.Parse(digits.AsSpan(0, 8), CultureInfo.InvariantCulture);
        return 97 - (body % 97) == int.Parse(digits.AsSpan(8, 2), CultureInfo.InvariantCulture);
    }

    /// <summary>The scheme <paramref name="value"/> is a valid identifier of in <paramref name="jurisdiction"/>, or null.</summary>
    public static string? SchemeOf(string jurisdiction, string value) =>
        ByJurisdiction.TryGetValue(jurisdiction, out var schemes) ? schemes.FirstOrDefault(s => IsValid(s, value)) : null;
}
