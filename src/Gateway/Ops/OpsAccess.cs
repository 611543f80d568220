using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Gateway.Ops;

/// <summary>The ops app's roles. An admin can do what an operator can, and more; the DPO's subject reports are theirs alone.</summary>
public static class OpsRoles
{
    /// <summary>Watches the flow: transfers, their decisions and attempts, parked transfers, recipients, agreements. Metadata only.</summary>
    public const string Operator = "operator";

    /// <summary>The data-protection officer: subject reports ("who received my data?") and the record of processing.</summary>
    public const string Dpo = "dpo";

    /// <summary>Replays parked and refused transfers, disables and enables recipients; sees what an operator sees.</summary>
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Operator, Dpo, Admin];
}

/// <summary>Who may do what, by route: the policies the pages and endpoints name.</summary>
public static class OpsPolicies
{
    public const string Flow = "ops-flow";
    public const string Register = "ops-register";
    public const string SubjectReports = "ops-subject-reports";
    public const string Changes = "ops-changes";
    public const string Audit = "ops-audit";
    public const string Approvals = "ops-approvals";
}

/// <summary>
/// Access to the ops app (<c>Ops</c>): users from configuration with hashed passwords (<c>ops hash-password</c> makes a
/// hash), signed in with a cookie; or, the alternative for a deployment behind an authenticating reverse proxy,
/// the user and roles the proxy sends in headers, believed only from the proxy's own addresses.
/// </summary>
public sealed class OpsOptions
{
    public const string Section = "Ops";

    /// <summary>By user name: the password hash (ASP.NET Core Identity v3 format) and the roles.</summary>
    public Dictionary<string, OpsUser> Users { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How long a sign-in lasts without use.</summary>
    public TimeSpan SignInLasts { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How long a sign-in lasts at most, however much it is used.</summary>
    public TimeSpan SignInAtMost { get; set; } = TimeSpan.FromHours(10);

    /// <summary>
    /// Whether a user the app signs in itself needs a second factor (TOTP or a recovery code) besides the password:
    /// on by default (seed 002 requires multi-factor login); a user without one enrolled is then refused.
    /// </summary>
    public bool RequireSecondFactor { get; set; } = true;

    /// <summary>
    /// The addresses of a TLS-terminating reverse proxy whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are
    /// believed (one hop): throttling then counts the client's address, and cookies are Secure when the client used HTTPS.
    /// </summary>
    public List<string> ForwardedBy { get; set; } = [];

    /// <summary>Sign-in attempts allowed per minute from one address.</summary>
    public int SignInAttemptsPerMinute { get; set; } = 10;

    public TrustedProxyOptions TrustedProxy { get; set; } = new();
}

public sealed class OpsUser
{
    public string PasswordHash { get; set; } = "";

    public List<string> Roles { get; set; } = [];

    /// <summary>The controller ids whose transfers, parked transfers, audit and subjects this user sees; <c>*</c>: all (platform staff). None: nothing.</summary>
    public List<string> Controllers { get; set; } = [];

    /// <summary>The TOTP secret (base32) of the user's authenticator app (<c>ops enrol-totp</c> makes one): a secret, so from the environment or a file.</summary>
    public string? TotpSecret { get; set; }

    /// <summary>A file holding <see cref="TotpSecret"/>.</summary>
    public string? TotpSecretFile { get; set; }

    /// <summary>SHA-256 (hex) of each recovery code (<c>ops enrol-totp</c> prints them); each opens one sign-in, once.</summary>
    public List<string> RecoveryCodeHashes { get; set; } = [];
}

/// <summary>An authenticating reverse proxy in front of the gateway: it signs people in and names them in headers.</summary>
public sealed class TrustedProxyOptions
{
    public bool Enabled { get; set; }

    /// <summary>The proxy's addresses: headers from anywhere else are ignored (anyone could send them).</summary>
    public List<string> Addresses { get; set; } = [];

    public string UserHeader { get; set; } = "X-Forwarded-User";

    /// <summary>
    /// Space-separated roles (<c>operator</c>, <c>dpo</c>, <c>admin</c>). Not commas: HTTP merges repeated headers with
    /// commas, so a comma here is a proxy that appended to what the client sent, and the request is refused.
    /// </summary>
    public string RolesHeader { get; set; } = "X-Forwarded-Roles";

    /// <summary>Space-separated controller ids the person may see, or <c>*</c>; absent: none. No commas (see <see cref="RolesHeader"/>).</summary>
    public string ControllersHeader { get; set; } = "X-Forwarded-Controllers";

    /// <summary>
    /// The header in which the proxy proves it is the proxy: <see cref="Secret"/>, on every request. The address alone
    /// proves nothing where others share it (a node, a sidecar, a NAT).
    /// </summary>
    public string SecretHeader { get; set; } = "X-Proxy-Secret";

    /// <summary>The secret the proxy sends (at least 32 characters); from the environment, or <see cref="SecretFile"/>.</summary>
    public string? Secret { get; set; }

    public string? SecretFile { get; set; }

    /// <summary>The secret as configured, read once; null when neither is set or the file cannot be read.</summary>
    internal byte[]? SecretDigest => _digest ??= Hosting.ConfiguredSecret.Read(Secret, SecretFile) is { Length: >= 32 } secret
        ? System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret))
        : null;

    byte[]? _digest;
}

public static class OpsAccess
{
    public const string ProxyScheme = "trusted-proxy";

    /// <summary>The rate limit on sign-in attempts, per address (<see cref="OpsOptions.SignInAttemptsPerMinute"/>).</summary>
    public const string SignInLimit = "ops-sign-in";

    static readonly PasswordHasher<string> Hasher = new();

    /// <summary>The hash <c>Ops:Users:&lt;name&gt;:PasswordHash</c> takes (PBKDF2, salted, ASP.NET Core Identity v3).</summary>
    public static string HashPassword(string password) => Hasher.HashPassword("", password);

    /// <summary>The user's roles when the password is right; null otherwise (an unknown user costs a hash too, so timing tells nothing).</summary>
    public static OpsUser? Check(OpsOptions options, string user, string password)
    {
        if (!options.Users.TryGetValue(user, out var known) || string.IsNullOrEmpty(known.PasswordHash))
        {
            Hasher.VerifyHashedPassword("", DummyHash.Value, password);
            return null;
        }

        try
        {
            return Hasher.VerifyHashedPassword("", known.PasswordHash, password) == PasswordVerificationResult.Failed ? null : known;
        }
        catch (FormatException)
        {
            return null; // a hash that is not one: nobody signs in with it
        }
    }

    static readonly Lazy<string> DummyHash = new(() => Hasher.HashPassword("", Guid.NewGuid().ToString()));

    public static ClaimsPrincipal Principal(string user, IEnumerable<string> roles, IEnumerable<string> controllers, string scheme, IEnumerable<Claim>? more = null) =>
        new(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.Name, user), .. roles.Where(OpsRoles.All.Contains).Distinct().Select(r => new Claim(ClaimTypes.Role, r)),
                .. controllers.Distinct(StringComparer.Ordinal).Select(c => new Claim(OpsScope.ClaimType, c)), .. more ?? [],
            ],
            scheme, ClaimTypes.Name, ClaimTypes.Role));

    const string StampClaim = "ig-ops-stamp";
    /// <summary>When the sign-in was made (Unix seconds): it lasts <see cref="OpsOptions.SignInAtMost"/> from then.</summary>
    public const string SignedInClaim = "ig-ops-signed-in";

    /// <summary>How the user proved who they are (RFC 8176 method names: <c>pwd</c>, <c>otp</c>; and <c>recovery-code</c>), one claim each.</summary>
    public const string MethodsClaim = "amr";

    /// <summary>
    /// What a cookie's sign-in rests on: the user's hash, roles and controllers as configured, and their second factor
    /// (a new secret after a lost phone, or new recovery codes). Changing any ends the sign-in.
    /// </summary>
    internal static string Stamp(OpsUser user) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
        System.Text.Encoding.UTF8.GetBytes(user.PasswordHash + "|" + string.Join(",", user.Roles.Order(StringComparer.Ordinal)) + "|" + string.Join(",", user.Controllers.Order(StringComparer.Ordinal))
            + "|" + user.TotpSecret + "|" + user.TotpSecretFile + "|" + string.Join(",", user.RecoveryCodeHashes))))[..32];

    /// <summary>The cookie's principal: name, roles, controllers, how they signed in, and what lets each request check that the sign-in still holds.</summary>
    public static ClaimsPrincipal CookiePrincipal(OpsOptions options, string user, DateTimeOffset now, IEnumerable<string> methods) =>
        Principal(user, options.Users[user].Roles, options.Users[user].Controllers, CookieAuthenticationDefaults.AuthenticationScheme, [
            new Claim(StampClaim, Stamp(options.Users[user])),
            new Claim(SignedInClaim, now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
            .. methods.Select(m => new Claim(MethodsClaim, m)),
        ]);

    /// <summary>Whether a sign-in was made with a second factor.</summary>
    static bool WithSecondFactor(ClaimsPrincipal principal) =>
        principal.FindAll(MethodsClaim).Any(c => c.Value is SecondFactor.Kinds.Totp or SecondFactor.Kinds.RecoveryCode);

    /// <summary>
    /// A cookie counts only while its user is still configured with the same password and roles, and for
    /// <see cref="OpsOptions.SignInAtMost"/> after signing in, and with a second factor where one is required: removing a
    /// user or a role, or changing a password or second factor, ends the sign-ins that rested on it at their next request.
    /// </summary>
    static bool StillHolds(ClaimsPrincipal principal, OpsOptions options, OpsOpenIdConnectOptions oidc, DateTimeOffset now) =>
        principal.FindFirst(OpsOpenIdConnect.SourceClaim)?.Value == "oidc"
            ? oidc.Enabled && SignedInWithin(principal, options, now)
              && (!oidc.RequireMfa || oidc.IsMultiFactor([.. principal.FindAll(MethodsClaim).Select(c => c.Value)], principal.FindFirst(OpsOpenIdConnect.LevelClaim)?.Value))
            : LocalStillHolds(principal, options, now);

    static bool SignedInWithin(ClaimsPrincipal principal, OpsOptions options, DateTimeOffset now) =>
        long.TryParse(principal.FindFirst(SignedInClaim)?.Value, System.Globalization.CultureInfo.InvariantCulture, out var at)
        && now - DateTimeOffset.FromUnixTimeSeconds(at) < options.SignInAtMost;

    static bool LocalStillHolds(ClaimsPrincipal principal, OpsOptions options, DateTimeOffset now) =>
        principal.Identity?.Name is { } name
        && options.Users.TryGetValue(name, out var user)
        && principal.FindFirst(StampClaim)?.Value == Stamp(user)
        && SignedInWithin(principal, options, now)
        && (!options.RequireSecondFactor || WithSecondFactor(principal));

    public static IServiceCollection AddOpsAccess(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OpsOptions>().Bind(configuration.GetSection(OpsOptions.Section))
            .Validate(o => o.Users.Values.All(u => u.Roles.All(OpsRoles.All.Contains)), $"{OpsOptions.Section}:Users: a role must be one of {string.Join(", ", OpsRoles.All)}")
            .Validate<Policy.ControllerRegistry>((o, registry) => o.Users.Values.All(u => u.Controllers.All(c => c == OpsScope.Platform || registry.ById(c) is not null)),
                $"{OpsOptions.Section}:Users: each of a user's Controllers is a controller id of deploy/config/controllers, or {OpsScope.Platform} for the platform's staff")
            .Validate(o => !o.TrustedProxy.Enabled || (o.TrustedProxy.Addresses.Count > 0 && o.TrustedProxy.Addresses.All(a => IPAddress.TryParse(a, out _))),
                $"{OpsOptions.Section}:TrustedProxy:Addresses must list the proxy's IP addresses when the proxy is enabled")
            .Validate(o => o.ForwardedBy.All(a => IPAddress.TryParse(a, out _)), $"{OpsOptions.Section}:ForwardedBy must list IP addresses")
            .Validate(o => !o.TrustedProxy.Enabled || o.TrustedProxy.SecretDigest is not null,
                $"{OpsOptions.Section}:TrustedProxy:Secret (or :SecretFile) must be set, at least 32 characters, when the proxy is enabled: the proxy sends it on every request to prove it is the proxy")
            .ValidateOnStart();
        var proxy = configuration.GetSection(OpsOptions.Section).Get<OpsOptions>()?.TrustedProxy.Enabled == true;
        services.AddAuthentication(proxy ? ProxyScheme : CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(cookie =>
            {
                cookie.Cookie.Name = "ig-ops";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.SlidingExpiration = true;
                cookie.LoginPath = "/ops/signin";
                cookie.AccessDeniedPath = "/ops/signin";
                cookie.Events = new CookieAuthenticationEvents
                {
                    // A page sends the browser to sign in; anything else (JSON) is told 401. A signed-in user without
                    // the role gets 403, not a redirect that hides the refusal.
                    OnRedirectToLogin = context =>
                    {
                        if (IsPage(context.Request))
                        {
                            context.Response.Redirect(context.RedirectUri);
                        }
                        else
                        {
                            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                        }

                        return Task.CompletedTask;
                    },
                    OnRedirectToAccessDenied = context =>
                    {
                        context.Response.StatusCode = StatusCodes.Status403Forbidden;
                        return Task.CompletedTask;
                    },
                    OnValidatePrincipal = async context =>
                    {
                        var services = context.HttpContext.RequestServices;
                        if (!StillHolds(context.Principal!, services.GetRequiredService<IOptions<OpsOptions>>().Value,
                                services.GetRequiredService<IOptions<OpsOpenIdConnectOptions>>().Value, services.GetRequiredService<TimeProvider>().GetUtcNow()))
                        {
                            context.RejectPrincipal();
                            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                        }
                    },
                    // A page's own refresh (the transfers list reloads itself) is not use: it does not keep a sign-in alive.
                    OnCheckSlidingExpiration = context =>
                    {
                        if (context.Request.Query.ContainsKey("auto"))
                        {
                            context.ShouldRenew = false;
                        }

                        return Task.CompletedTask;
                    },
                };
            })
            .AddScheme<AuthenticationSchemeOptions, TrustedProxyHandler>(ProxyScheme, _ => { })
            .AddOpsOpenIdConnect(configuration);
        services.AddOptions<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme)
            .Configure<IOptions<OpsOptions>>((cookie, ops) => cookie.ExpireTimeSpan = ops.Value.SignInLasts);
        services.AddRateLimiter(limits =>
        {
            limits.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limits.AddPolicy(SignInLimit, context => HttpMethods.IsPost(context.Request.Method)
                ? System.Threading.RateLimiting.RateLimitPartition.GetFixedWindowLimiter(ClientAddress(context)?.ToString() ?? "", _ => new System.Threading.RateLimiting.FixedWindowRateLimiterOptions
                {
                    PermitLimit = context.RequestServices.GetRequiredService<IOptions<OpsOptions>>().Value.SignInAttemptsPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                })
                : System.Threading.RateLimiting.RateLimitPartition.GetNoLimiter(""));
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(OpsPolicies.Flow, p => p.RequireRole(OpsRoles.Operator, OpsRoles.Admin))
            .AddPolicy(OpsPolicies.Register, p => p.RequireRole(OpsRoles.Operator, OpsRoles.Dpo, OpsRoles.Admin))
            .AddPolicy(OpsPolicies.SubjectReports, p => p.RequireRole(OpsRoles.Dpo))
            .AddPolicy(OpsPolicies.Changes, p => p.RequireRole(OpsRoles.Admin))
            // The DPO answers for what staff did with the controller's data; each sees the rows of their own controllers.
            .AddPolicy(OpsPolicies.Audit, p => p.RequireRole(OpsRoles.Dpo, OpsRoles.Admin))
            // The DPO of a controller party to an agreement approves its text; no one else.
            .AddPolicy(OpsPolicies.Approvals, p => p.RequireRole(OpsRoles.Dpo));
        return services;
    }

    /// <summary>Where a request comes from, as sign-in throttling and the audit count it (behind <see cref="OpsOptions.ForwardedBy"/>, the client).</summary>
    public static IPAddress? ClientAddress(HttpContext http) => Normal(http.Connection.RemoteIpAddress);

    /// <summary>The address the connection itself comes from, before any forwarded header: what the trusted proxy is known by.</summary>
    public static IPAddress? PeerAddress(HttpContext http) => Normal(http.Items[PeerKey] as IPAddress ?? http.Connection.RemoteIpAddress);

    internal const string PeerKey = "ig-ops-peer";

    static IPAddress? Normal(IPAddress? address) => address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;

    /// <summary>A browser loading a page (not a form post, not the JSON summary): sent to sign in rather than told 401.</summary>
    static bool IsPage(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && !request.Path.StartsWithSegments("/ops/summary")
        && request.Headers.Accept.Any(a => a?.Contains("text/html", StringComparison.OrdinalIgnoreCase) == true);
}

/// <summary>The user and roles an authenticating reverse proxy sends, taken only from the proxy's own addresses.</summary>
internal sealed class TrustedProxyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemes, IOptions<OpsOptions> ops, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemes, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var proxy = ops.Value.TrustedProxy;
        var from = OpsAccess.PeerAddress(Context);
        if (from is null || !proxy.Addresses.Any(a => IPAddress.Parse(a).Equals(from)))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        // The proxy proves itself with its secret (compared in constant time), not with its address alone.
        var secrets = Request.Headers[proxy.SecretHeader];
        if (secrets.Count != 1 || proxy.SecretDigest is not { } expected
            || !System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secrets[0] ?? "")), expected))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        // One value each, and no comma in any: a proxy that appends rather than replaces would otherwise merge in what
        // the client sent, as a second header or after a comma.
        var users = Request.Headers[proxy.UserHeader];
        var roleHeaders = Request.Headers[proxy.RolesHeader];
        var controllerHeaders = Request.Headers[proxy.ControllersHeader];
        if (users.Count != 1 || roleHeaders.Count > 1 || controllerHeaders.Count > 1 || string.IsNullOrWhiteSpace(users[0])
            || users.Concat(roleHeaders).Concat(controllerHeaders).Any(v => v?.Contains(',', StringComparison.Ordinal) == true))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var user = users[0]!.Trim();
        var roles = (roleHeaders.Count == 1 ? roleHeaders[0]! : "").Split(' ', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var controllers = (controllerHeaders.Count == 1 ? controllerHeaders[0]! : "").Split(' ', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(OpsAccess.Principal(user, roles, controllers, OpsAccess.ProxyScheme), OpsAccess.ProxyScheme)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        return Task.CompletedTask;
    }
}
