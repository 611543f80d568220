using System.Text.Json.Nodes;

namespace IntegrationGateway.Testing;

/// <summary>What a leak scan looks for in an event: the names, identifiers, contact details and addresses of the subject and guardians.</summary>
internal static class PersonalValues
{
    /// <summary>Values shorter than five characters (a city, a house number, a short first name) are left out as too common to tell.</summary>
    public static IEnumerable<string> Of(JsonNode e)
    {
        var people = new List<JsonNode?> { e["subject"] };
        people.AddRange(e["guardians"]?.AsArray() ?? []);
        foreach (var person in people.OfType<JsonObject>())
        {
            string?[] values =
            [
                (string?)person["localId"], (string?)person["bsn"], (string?)person["rijksregisternummer"], (string?)person["phone"], (string?)person["email"],
                (string?)person["givenName"], (string?)person["familyName"], $"{(string?)person["givenName"]} {(string?)person["familyName"]}",
                (string?)person["address"]?["street"], (string?)person["address"]?["postalCode"],
            ];
            foreach (var value in values)
            {
                if (value is { Length: >= 5 })
                {
                    yield return value;
                }
            }
        }
    }

    public static IEnumerable<string> Of(object contract) =>
        Of(System.Text.Json.JsonSerializer.SerializeToNode(contract, contract.GetType(), Gateway.Intake.EventJsonContext.Default)!);
}
