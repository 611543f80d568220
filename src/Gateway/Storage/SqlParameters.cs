using Npgsql;
using NpgsqlTypes;

namespace IntegrationGateway.Gateway.Storage;

/// <summary>Query parameters written the same way wherever they are needed.</summary>
public static class SqlParameters
{
    /// <summary>
    /// A <c>text[]</c> parameter, or SQL NULL when <paramref name="values"/> is null: for filters written
    /// <c>($n::text[] IS NULL OR column = ANY($n))</c>, where null means no filter (the platform's view of every controller).
    /// </summary>
    public static NpgsqlParameter TextsOrNull(IReadOnlyList<string>? values) =>
        new() { Value = (object?)values?.ToArray() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };
}
