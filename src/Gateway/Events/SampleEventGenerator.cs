using IntegrationGateway.Contracts;

namespace IntegrationGateway.Gateway.Events;

/// <summary>
/// Realistic synthetic events for the demo, tests and benchmarks: Dutch names, BSNs that pass the eleven-test,
/// plausible dates. Deterministic for a seed, event ids included (so the same seed republishes the same events and
/// their idempotency keys); only the timestamps come from the clock it is given.
/// </summary>
public sealed class SampleEventGenerator(int seed, TimeProvider time)
{
    static readonly string[] GivenNames = ["Daan", "Sem", "Lucas", "Noah", "Emma", "Julia", "Mila", "Tess", "Fatima", "Mohammed", "Sara", "Finn", "Yara", "Levi", "Noor", "Bram"];
    static readonly string[] FamilyNames = ["de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Yilmaz", "El Amrani", "Bos", "Vos", "Peters"];
    static readonly string[] Cities = ["Utrecht", "Zwolle", "Groningen", "Tilburg", "Arnhem", "Haarlem", "Leiden", "Delft"];
    static readonly string[] Streets = ["Kerkstraat", "Schoolstraat", "Molenweg", "Dorpsstraat", "Stationsweg", "Julianalaan"];
    static readonly string[] Brins = ["12AB", "23CD", "34EF", "45GH"];
    static readonly string[] AbsenceKinds = ["unauthorised", "unauthorised", "sickness", "other"];

    readonly Random _random = new(seed);

    public IReadOnlyList<AbsenceReported> AbsenceReported(int count) =>
        Enumerable.Range(0, count).Select(_ => NextAbsenceReported()).ToList();

    public AbsenceReported NextAbsenceReported()
    {
        var now = time.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var from = today.AddDays(-_random.Next(1, 30));
        var familyName = Pick(FamilyNames);
        return new AbsenceReported
        {
            EventId = NextGuid(),
            OccurredAt = now,
            Source = new EventSource { InstitutionId = Pick(Brins), System = "Magister" },
            Jurisdiction = "NL",
            Subject = new Subject
            {
                LocalId = $"LL{_random.Next(100000, 999999)}",
                Bsn = NextBsn(),
                GivenName = Pick(GivenNames),
                FamilyName = familyName,
                BirthDate = today.AddYears(-_random.Next(12, 18)).AddDays(-_random.Next(0, 365)),
                BirthPlace = Pick(Cities),
                Gender = _random.Next(2) == 0 ? "female" : "male",
                Nationality = "NL",
                Address = new Address
                {
                    Street = Pick(Streets),
                    HouseNumber = _random.Next(1, 200).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    PostalCode = $"{_random.Next(1000, 9999)} {(char)('A' + _random.Next(26))}{(char)('A' + _random.Next(26))}",
                    City = Pick(Cities),
                    Country = "NL",
                },
                Phone = $"+316{_random.Next(10000000, 99999999)}",
                Email = $"leerling{_random.Next(1000, 9999)}@example.nl",
            },
            Guardians =
            [
                new Guardian
                {
                    GivenName = Pick(GivenNames),
                    FamilyName = familyName,
                    Relation = "parent",
                    Phone = $"+316{_random.Next(10000000, 99999999)}",
                    Email = $"ouder{_random.Next(1000, 9999)}@example.nl",
                },
            ],
            Absence = new Absence
            {
                From = from,
                To = from.AddDays(_random.Next(0, 4)),
                Kind = Pick(AbsenceKinds),
                Hours = _random.Next(1, 30),
                Remark = _random.Next(3) == 0 ? "Ouders gebeld, geen reactie." : null,
            },
        };
    }

    /// <summary>A nine-digit number that passes the eleven-test (9·d1 + 8·d2 + … + 2·d8 − d9 ≡ 0 mod 11).</summary>
    public string NextBsn()
    {
        while (true)
        {
            Span<int> digits = stackalloc int[9];
            var sum = 0;
            for (var i = 0; i < 8; i++)
            {
                digits[i] = _random.Next(i == 0 ? 1 : 0, 10);
                sum += (9 - i) * digits[i];
            }

            var last = sum % 11;
            if (last > 9)
            {
                continue;
            }

            digits[8] = last;
            return string.Concat(digits.ToArray());
        }
    }

    Guid NextGuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        _random.NextBytes(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40); // version 4
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(bytes);
    }

    T Pick<T>(T[] values) => values[_random.Next(values.Length)];
}
