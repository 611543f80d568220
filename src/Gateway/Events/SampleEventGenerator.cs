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
    // The senders are the demo's three controllers (deploy/config/controllers): the Dutch school of seed 003 (BRIN
    // 12AB, a placeholder), CVO Focus (instellingsnummer 126151, a placeholder) and IN-Gent (KBO 0507873093, seed 002).
    static readonly string[] Brins = ["12AB"];

    readonly Random _random = new(seed);

    static readonly string[] FlemishGivenNames = ["Amina", "Olena", "Yusuf", "Mariam", "Dmytro", "Ahmad", "Fatou", "Lotte", "Wout", "Nour"];
    static readonly string[] FlemishFamilyNames = ["Peeters", "Janssens", "Maes", "Kovalenko", "Haddad", "Diallo", "Claes", "Wouters", "Nasser", "Goossens"];
    static readonly string[] FlemishCities = ["Gent", "Antwerpen", "Brussel", "Leuven", "Mechelen", "Brugge"];
    static readonly string[] FlemishInstitutions = ["126151"]; // adult-education centres' instellingsnummers

    /// <summary>The BRIN of the Dutch school that sends the Dutch events (default: the seed 003 school's, 12AB).</summary>
    public string DutchSchool { get; init; } = Brins[0];

    /// <summary>IN-Gent vzw's KBO enterprise number (seed 002): the integration agency sends the integration events.</summary>
    public const string IntegrationAgency = "0507873093";

    /// <summary>The event types it can make, by contract name.</summary>
    public static IReadOnlyList<string> EventTypes { get; } =
    [
        nameof(Contracts.AbsenceReported), nameof(StudentEnrolled), nameof(StudentDeregistered), nameof(AttendanceRegistered),
        nameof(ExamResultRecorded), nameof(DiplomaAwarded), nameof(SupportPlanUpdated), nameof(IntegrationIntakeCompleted),
        nameof(LanguageTestResultRecorded), nameof(CourseParticipationRecorded), nameof(TemporaryProtectionRegistered),
        nameof(PersonalDataRectified), nameof(ErasureRequested), nameof(ConsentChanged), nameof(ObjectionLodged),
    ];

    /// <summary>Members <see cref="AsSloppyExport"/> adds; no contract declares any of them.</summary>
    public static IReadOnlyList<string> UndeclaredMemberNames { get; } = ["candidateBsn", "candidateName", "exportNote"];

    /// <summary>
    /// The event as a careless (or malicious) export would publish it: its wire JSON with members the contract does not
    /// declare added to every object at every depth, list elements included, holding the person's identifier and name
    /// and a nested object. The intake accepts them; the gateway must withhold every one.
    /// </summary>
    public static System.Text.Json.Nodes.JsonObject AsSloppyExport(object e)
    {
        var json = System.Text.Json.JsonSerializer.SerializeToNode(e, e.GetType(), Intake.EventJsonContext.Default)!.AsObject();
        var subject = json["subject"];
        var identifier = (subject?["bsn"] ?? subject?["rijksregisternummer"] ?? subject?["localId"])?.GetValue<string>();
        var name = $"{subject?["givenName"]} {subject?["familyName"]}".Trim();
        void Spoil(System.Text.Json.Nodes.JsonNode? node)
        {
            switch (node)
            {
                case System.Text.Json.Nodes.JsonObject obj:
                    foreach (var member in obj.Select(m => m.Value).ToList())
                    {
                        Spoil(member);
                    }

                    obj[UndeclaredMemberNames[0]] = identifier;
                    obj[UndeclaredMemberNames[1]] = name;
                    obj[UndeclaredMemberNames[2]] = new System.Text.Json.Nodes.JsonObject { ["text"] = $"called {name} about this", ["by"] = "mentor" };
                    break;
                case System.Text.Json.Nodes.JsonArray array:
                    foreach (var element in array)
                    {
                        Spoil(element);
                    }

                    break;
            }
        }

        Spoil(json);
        return json;
    }

    public IReadOnlyList<AbsenceReported> AbsenceReported(int count) =>
        Enumerable.Range(0, count).Select(_ => NextAbsenceReported()).ToList();

    /// <summary>One event of the named type.</summary>
    public object Next(string eventType) => eventType switch
    {
        nameof(Contracts.AbsenceReported) => NextAbsenceReported(),
        nameof(StudentEnrolled) => NextDutch(c => new StudentEnrolled
        {
            EventId = c.Id, OccurredAt = c.Now, Source = c.Source, Jurisdiction = "NL", Subject = c.Subject, Guardians = c.Guardians,
            Enrolment = new Enrolment { Programme = Pick(["vmbo-t", "havo", "vwo"]), SchoolYear = "2026-2027", Year = _random.Next(1, 6), ClassName = $"{_random.Next(1, 6)}{(char)('A' + _random.Next(4))}", StartDate = c.Today.AddDays(-_random.Next(0, 90)) },
        }),
        nameof(StudentDeregistered) => NextDutch(c => new StudentDeregistered
        {
            EventId = c.Id, OccurredAt = c.Now, Source = c.Source, Jurisdiction = "NL", Subject = c.Subject, Guardians = c.Guardians,
            Deregistration = new Deregistration { Date = c.Today.AddDays(-_random.Next(0, 30)), Reason = Pick(["graduated", "moved", "transferred", "dropped-out"]), DestinationInstitutionId = _random.Next(2) == 0 ? Pick(Brins) : null },
        }),
        nameof(ExamResultRecorded) => NextDutch(c => new ExamResultRecorded
        {
            EventId = c.Id, OccurredAt = c.Now, Source = c.Source, Jurisdiction = "NL", Subject = c.Subject, Guardians = c.Guardians,
            Exam = new ExamResult { SubjectCode = Pick(["netl", "entl", "wisa", "wisb", "gs", "biol"]), Kind = Pick(["school-exam", "central-exam"]), Date = c.Today.AddDays(-_random.Next(0, 60)), Grade = Math.Round((decimal)(1 + (_random.NextDouble() * 9)), 1), Passed = _random.Next(4) != 0 },
        }),
        nameof(DiplomaAwarded) => NextDutch(c => new DiplomaAwarded
        {
            EventId = c.Id, OccurredAt = c.Now, Source = c.Source, Jurisdiction = "NL", Subject = c.Subject, Guardians = c.Guardians,
            Diploma = new Diploma { Programme = Pick(["vmbo-t", "havo", "vwo"]), Date = c.Today.AddDays(-_random.Next(0, 30)), Profile = Pick(["Natuur en Gezondheid", "Economie en Maatschappij", "Cultuur en Maatschappij"]) },
        }),
        nameof(SupportPlanUpdated) => NextDutch(c => new SupportPlanUpdated
        {
            EventId = c.Id, OccurredAt = c.Now, Source = c.Source, Jurisdiction = "NL", Subject = c.Subject, Guardians = c.Guardians,
            SupportPlan = new SupportPlan
            {
                Date = c.Today.AddDays(-_random.Next(0, 30)), Level = Pick(["basic", "extra", "intensive"]), Goals = "Zelfstandig plannen van huiswerk.",
                Arrangements = ["extra tijd bij toetsen", "remedial teaching"], MedicalNotes = _random.Next(3) == 0 ? "Diagnose ADHD, medicatie." : null,
                Referral = _random.Next(2) == 0 ? new Referral { ReferralId = $"GEM-{_random.Next(10000, 99999)}", Date = c.Today.AddDays(-60) } : null,
            },
        }),
        nameof(AttendanceRegistered) => NextFlemish(c => new AttendanceRegistered
        {
            EventId = c.Id, OccurredAt = c.Now, Source = new EventSource { InstitutionId = Pick(FlemishInstitutions), System = "WISA" }, Jurisdiction = "BE-VLG", Subject = c.Subject, Guardians = c.Guardians,
            Attendance = new Attendance { PeriodFrom = c.Today.AddDays(-30), PeriodTo = c.Today.AddDays(-1), CourseCode = $"NT2-{_random.Next(1, 5)}.{_random.Next(1, 3)}", HoursScheduled = 40, HoursAttended = _random.Next(20, 41), HoursAbsentAuthorised = _random.Next(0, 5), HoursAbsentUnauthorised = _random.Next(0, 5) },
        }, mayBeMinor: true),
        nameof(IntegrationIntakeCompleted) => NextFlemish(c => new IntegrationIntakeCompleted
        {
            EventId = c.Id, OccurredAt = c.Now, Source = c.Source, Jurisdiction = "BE-VLG", Subject = c.Subject,
            Intake = new Contracts.Intake
            {
                Date = c.Today.AddDays(-_random.Next(0, 30)), ContactLanguage = Pick(["uk", "ar", "fr", "en"]), Languages = ["uk", "ru", "en"], Literacy = Pick(["literate", "literate-other-script", "illiterate"]),
                EducationLevel = Pick(["primary", "secondary", "higher"]), WorkSituation = Pick(["employed", "job-seeker", "student", "other"]), ReasonForLearningDutch = Pick(["work", "study", "social"]),
                ChildcareNeeded = _random.Next(2) == 0, BuddyNeeded = _random.Next(2) == 0,
                ResidenceStatus = new ResidenceStatus { Kind = Pick(["refugee", "family-reunification", "temporary-protection"]), From = c.Today.AddYears(-1), Until = c.Today.AddYears(1) },
            },
        }),
        nameof(LanguageTestResultRecorded) => NextFlemish(c => new LanguageTestResultRecorded
        {
            EventId = c.Id, OccurredAt = c.Now, Source = c.Source, Jurisdiction = "BE-VLG", Subject = c.Subject,
            Test = new LanguageTest { Date = c.Today.AddDays(-_random.Next(0, 30)), Kind = Pick(["latin-script", "cognitive", "nt2-level"]), Result = Pick(["passed", "not-passed"]), Level = Pick(["A1", "A2", "B1"]) },
        }),
        nameof(CourseParticipationRecorded) => NextFlemish(c => new CourseParticipationRecorded
        {
            EventId = c.Id, OccurredAt = c.Now, Source = c.Source, Jurisdiction = "BE-VLG", Subject = c.Subject,
            Participation = new CourseParticipation { CourseCode = $"NT2-{_random.Next(1, 5)}.{_random.Next(1, 3)}", Provider = "128751", From = c.Today.AddDays(-60), To = _random.Next(2) == 0 ? c.Today : null, HoursScheduled = 120, HoursAttended = _random.Next(40, 121), Status = Pick(["ongoing", "completed", "stopped"]) },
        }),
        nameof(TemporaryProtectionRegistered) => NextFlemish(c => new TemporaryProtectionRegistered
        {
            EventId = c.Id, OccurredAt = c.Now, Source = c.Source with { System = "Centrale Registratietool" }, Jurisdiction = "BE-VLG", Subject = c.Subject,
            Protection = new TemporaryProtection { RegisteredOn = c.Today.AddDays(-_random.Next(0, 30)), ValidFrom = c.Today.AddDays(-60), ValidUntil = c.Today.AddDays(300), Municipality = Pick(FlemishCities), HouseholdSize = _random.Next(1, 6) },
        }),
        nameof(PersonalDataRectified) => NextDutch(c => new PersonalDataRectified
        {
            EventId = c.Id, OccurredAt = c.Now, Source = c.Source, Jurisdiction = "NL", Subject = c.Subject, Guardians = c.Guardians,
            Rectification = new Rectification { Date = c.Today, ChangedFields = [Pick(["subject.address", "subject.familyName", "subject.email", "subject.phone"])] },
        }),
        nameof(ErasureRequested) => NextDutch(c => new ErasureRequested
        {
            EventId = c.Id, OccurredAt = c.Now, Source = c.Source, Jurisdiction = "NL", Subject = c.Subject with { GivenName = null, FamilyName = null, Address = null, Phone = null, Email = null },
            Erasure = new ErasureRequest { RequestedOn = c.Today, RequestedBy = Pick(["subject", "guardian"]) },
        }),
        nameof(ConsentChanged) => NextDutch(c => new ConsentChanged
        {
            EventId = c.Id, OccurredAt = c.Now, Source = c.Source, Jurisdiction = "NL", Subject = c.Subject with { Address = null, Phone = null, Email = null },
            Consent = new ConsentChange { Purpose = "school-photos", Status = Pick(["given", "withdrawn"]), ChangedOn = c.Today, GivenBy = "guardian" },
        }),
        nameof(ObjectionLodged) => NextDutch(c => new ObjectionLodged
        {
            EventId = c.Id, OccurredAt = c.Now, Source = c.Source, Jurisdiction = "NL", Subject = c.Subject with { Address = null, Phone = null, Email = null },
            Objection = new Objection { LodgedOn = c.Today, LodgedBy = Pick(["subject", "guardian"]) },
        }),
        _ => throw new ArgumentException($"no sample events of type '{eventType}'; known: {string.Join(", ", EventTypes)}", nameof(eventType)),
    };

    /// <summary>What every event of a person needs: ids, time, sender, the person.</summary>
    sealed record Common(Guid Id, DateTimeOffset Now, DateOnly Today, EventSource Source, Subject Subject, IReadOnlyList<Guardian>? Guardians);

    T NextDutch<T>(Func<Common, T> build)
    {
        var absence = NextAbsenceReported();
        return build(new Common(absence.EventId, absence.OccurredAt, DateOnly.FromDateTime(absence.OccurredAt.UtcDateTime), absence.Source, absence.Subject, absence.Guardians));
    }

    /// <param name="build">Makes the event from the common parts.</param>
    /// <param name="mayBeMinor">One in three is a minor of 16 or 17 with a parent (seeds/000 §1.3: an adult-education centre enrols minors too).</param>
    T NextFlemish<T>(Func<Common, T> build, bool mayBeMinor = false)
    {
        var now = time.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var minor = mayBeMinor && _random.Next(3) == 0;
        var birth = today.AddYears(minor ? -_random.Next(16, 18) : -_random.Next(18, 60)).AddDays(-_random.Next(0, 365));
        var subject = new Subject
        {
            LocalId = $"KBI{_random.Next(100000, 999999)}",
            Rijksregisternummer = NextRijksregisternummer(birth),
            GivenName = Pick(FlemishGivenNames),
            FamilyName = Pick(FlemishFamilyNames),
            BirthDate = birth,
            BirthPlace = Pick(["Kyiv", "Aleppo", "Kabul", "Conakry", "Gent"]),
            Gender = _random.Next(2) == 0 ? "female" : "male",
            Nationality = Pick(["UA", "SY", "AF", "GN"]),
            Address = new Address { Street = Pick(["Kortrijksesteenweg", "Dampoortstraat", "Turnhoutsebaan"]), HouseNumber = _random.Next(1, 300).ToString(System.Globalization.CultureInfo.InvariantCulture), PostalCode = _random.Next(1000, 9999).ToString(System.Globalization.CultureInfo.InvariantCulture), City = Pick(FlemishCities), Country = "BE" },
            Phone = $"+324{_random.Next(70000000, 99999999)}",
            Email = $"deelnemer{_random.Next(1000, 9999)}@example.be",
        };
        IReadOnlyList<Guardian>? guardians = minor
            ? [new Guardian { GivenName = Pick(FlemishGivenNames), FamilyName = subject.FamilyName, Relation = "parent", Phone = $"+324{_random.Next(70000000, 99999999)}" }]
            : null;
        return build(new Common(NextGuid(), now, today, new EventSource { InstitutionId = IntegrationAgency, System = "KBI" }, subject, guardians));
    }

    /// <summary>
    /// A Belgian national register number: yymmdd, a serial, and a check of 97 − (number mod 97), where people
    /// born from 2000 on have a 2 put in front of the number for the check.
    /// </summary>
    public string NextRijksregisternummer(DateOnly birthDate)
    {
        var serial = _random.Next(1, 998);
        var body = long.Parse($"{birthDate:yyMMdd}{serial:000}", System.Globalization.CultureInfo.InvariantCulture);
        var checkBase = birthDate.Year >= 2000 ? 2_000_000_000 + body : body;
        var check = 97 - (checkBase % 97);
        return $"{body:000000000}{check:00}";
    }

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
            Source = new EventSource { InstitutionId = Pick([DutchSchool]), System = "Magister" },
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
                // What schools report onward: unauthorised absence. Tests that need sickness absence set it themselves.
                Kind = "unauthorised",
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
