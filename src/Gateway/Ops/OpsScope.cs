using System.Security.Claims;

namespace IntegrationGateway.Gateway.Ops;

/// <summary>
/// Which controllers a signed-in member of staff may see: those their user lists (<c>Ops:Users:&lt;name&gt;:Controllers</c>,
/// or the trusted proxy's controllers header), or all of them for the platform's own staff (<c>*</c>). Every page and
/// endpoint reads through it: a school's operator gets no row, count, audit line or subject report of another school.
/// Deny by default: a user who lists no controller sees none.
/// </summary>
public sealed record OpsScope(IReadOnlyList<string>? Controllers)
{
    /// <summary>The platform's scope: every controller.</summary>
    public const string Platform = "*";

    public const string ClaimType = "ig-controller";

    public static readonly OpsScope All = new((IReadOnlyList<string>?)null);

    public static OpsScope Of(ClaimsPrincipal user) => Of(user.FindAll(ClaimType).Select(c => c.Value));

    /// <summary>The scope a list of controller ids stands for: all of them when it holds <see cref="Platform"/>.</summary>
    public static OpsScope Of(IEnumerable<string> controllers)
    {
        var list = controllers.Distinct(StringComparer.Ordinal).ToList();
        return list.Contains(Platform) ? All : new OpsScope(list);
    }

    public bool IsPlatform => Controllers is null;

    public bool Sees(string controller) => Controllers is null || Controllers.Contains(controller, StringComparer.Ordinal);

    /// <summary>As a query parameter: null for the platform (no filter), else the controllers (<c>= ANY($n)</c>).</summary>
    public Npgsql.NpgsqlParameter Parameter() => Storage.SqlParameters.TextsOrNull(Controllers);

    /// <summary>How the audit records whose view an action was in: null for the platform.</summary>
    public string[]? AuditControllers => Controllers?.ToArray();
}
