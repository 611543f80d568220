using System.Xml.Linq;
using IntegrationGateway.Gateway.Sealing;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Npgsql;

namespace IntegrationGateway.Gateway.Ops;

/// <summary>
/// The keys that protect sign-in cookies and form tokens, kept in the gateway's database and sealed under
/// <c>Sealing:Key</c>: every gateway sharing the database reads the same keys (a cookie from one works at the other,
/// and survives a restart), and a dump of the database does not give them away.
/// </summary>
public static class OpsKeys
{
    public static IServiceCollection AddOpsKeys(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("integration-gateway");
        services.AddOptions<KeyManagementOptions>().Configure<NpgsqlDataSource, Sealer>((keys, database, sealer) =>
        {
            keys.XmlRepository = new DatabaseXmlRepository(database);
            keys.XmlEncryptor = new SealedXmlEncryptor(sealer.For(SealingPurposes.OpsKeys));
        });
        return services;
    }

    sealed class DatabaseXmlRepository(NpgsqlDataSource database) : IXmlRepository
    {
        public IReadOnlyCollection<XElement> GetAllElements()
        {
            using var command = database.CreateCommand("SELECT xml FROM ops_key ORDER BY created_at");
            using var reader = command.ExecuteReader();
            var elements = new List<XElement>();
            while (reader.Read())
            {
                elements.Add(XElement.Parse(reader.GetString(0)));
            }

            return elements;
        }

        public void StoreElement(XElement element, string friendlyName)
        {
            using var command = database.CreateCommand("INSERT INTO ops_key (name, xml, created_at) VALUES ($1, $2, now()) ON CONFLICT (name) DO NOTHING");
            command.Parameters.Add(new() { Value = friendlyName });
            command.Parameters.Add(new() { Value = element.ToString(SaveOptions.DisableFormatting) });
            command.ExecuteNonQuery();
        }
    }

    sealed class SealedXmlEncryptor(Sealer sealer) : IXmlEncryptor
    {
        public EncryptedXmlInfo Encrypt(XElement plaintextElement) =>
            new(new XElement("sealed", new XAttribute("key", sealer.KeyId),
                Convert.ToBase64String(sealer.Seal(System.Text.Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting))))),
                typeof(SealedXmlDecryptor));
    }

    /// <summary>Made by the data-protection system, by type, with the services.</summary>
    public sealed class SealedXmlDecryptor(IServiceProvider services) : IXmlDecryptor
    {
        public XElement Decrypt(XElement encryptedElement) =>
            XElement.Parse(System.Text.Encoding.UTF8.GetString(services.GetRequiredService<Sealer>().For(SealingPurposes.OpsKeys).Open(Convert.FromBase64String(encryptedElement.Value))));
    }
}
