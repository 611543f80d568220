using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Gateway.Ops;

/// <summary>
/// Staff sign-in through the organisation's OpenID Connect provider (<c>Ops:OpenIdConnect</c>), instead of or beside the
/// app's own users: authorization code flow with PKCE, the user's roles and controllers from claims, and (on by
/// default) a second factor required of the provider's sign-in, read from its <c>amr</c> (RFC 8176) or <c>acr</c>.
/// A sign-in without one is refused and recorded, as is how each accepted one was made.
/// </summary>
public sealed class OpsOpenIdConnectOptions
{
    public const string Section = "Ops:OpenIdConnect";

    public bool Enabled { get; set; }

    /// <summary>The provider's issuer URL (its metadata at <c>/.well-known/openid-configuration</c>); HTTPS unless on loopback.</summary>
    public Uri? Authority { get; set; }

    public string ClientId { get; set; } = "";

    /// <summary>A secret: from the environment, or <see cref="ClientSecretFile"/>.</summary>
    public string? ClientSecret { get; set; }

    public string? ClientSecretFile { get; set; }

    /// <summary>What the sign-in page's button calls the provider.</summary>
    public string DisplayName { get; set; } = "your organisation's sign-in";

    /// <summary>
    /// The claim that names the person in the app and the audit: <c>sub</c>, which the provider keeps unique and
    /// stable; a display name such as <c>preferred_username</c> can be chosen or reused, and so could pass for another's.
    /// </summary>
    public string NameClaim { get; set; } = "sub";

    /// <summary>The claim holding the ops roles (<c>operator</c>, <c>dpo</c>, <c>admin</c>), one value each or space-separated.</summary>
    public string RolesClaim { get; set; } = "roles";

    /// <summary>The claim holding the controller ids the person may see, or <c>*</c>.</summary>
    public string ControllersClaim { get; set; } = "controllers";

    /// <summary>Whether the provider's sign-in must have used a second factor (see <see cref="IsMultiFactor"/>).</summary>
    public bool RequireMfa { get; set; } = true;

    /// <summary><c>acr</c> values that mean a multi-factor sign-in at this provider (e.g. an eIDAS level of assurance it uses for that).</summary>
    public List<string> MfaAcrValues { get; set; } = [];

    /// <summary>RFC 8176 methods that are a possession or inherence factor: beside another method they make a sign-in multi-factor.</summary>
    static readonly string[] SecondFactorMethods = ["otp", "hwk", "swk", "sc", "sms", "tel", "pop", "fpt", "face", "iris", "retina", "vbm"];

    /// <summary>
    /// Multi-factor: <c>amr</c> says <c>mfa</c>, or names two methods or more of which one is a possession or inherence
    /// factor (<c>pwd</c> with <c>otp</c>, say), or <c>acr</c> is one of <see cref="MfaAcrValues"/>. A password alone, or
    /// a sign-in that says nothing of how it was made, is not.
    /// </summary>
    public bool IsMultiFactor(IReadOnlyList<string> amr, string? acr) =>
        amr.Contains("mfa") || (amr.Distinct().Count() >= 2 && amr.Any(SecondFactorMethods.Contains)) || (acr is not null && MfaAcrValues.Contains(acr));
}

public static class OpsOpenIdConnect
{
    public const string Scheme = "ops-oidc";

    /// <summary>The claim that marks a cookie made from the provider's sign-in (its user is not in <c>Ops:Users</c>).</summary>
    public const string SourceClaim = "ig-ops-source";

    public const string CallbackPath = "/ops/signin/oidc";

    /// <summary>The provider's <c>acr</c> kept in the cookie: a sign-in it made multi-factor by level still counts as one at every request.</summary>
    public const string LevelClaim = "acr";

    public static AuthenticationBuilder AddOpsOpenIdConnect(this AuthenticationBuilder authentication, IConfiguration configuration)
    {
        var settings = configuration.GetSection(OpsOpenIdConnectOptions.Section).Get<OpsOpenIdConnectOptions>() ?? new OpsOpenIdConnectOptions();
        authentication.Services.AddOptions<OpsOpenIdConnectOptions>().Bind(configuration.GetSection(OpsOpenIdConnectOptions.Section))
            .Validate(o => !o.Enabled || (o.Authority is { IsAbsoluteUri: true } authority && (authority.Scheme == Uri.UriSchemeHttps || authority.IsLoopback)),
                $"{OpsOpenIdConnectOptions.Section}:Authority must be the provider's https URL (http on loopback only) when it is enabled")
            .Validate(o => !o.Enabled || (o.ClientId.Length > 0 && (o.ClientSecret is { Length: > 0 } || o.ClientSecretFile is { Length: > 0 })),
                $"{OpsOpenIdConnectOptions.Section}: ClientId and ClientSecret (or ClientSecretFile) are required when it is enabled")
            .ValidateOnStart();
        if (!settings.Enabled)
        {
            return authentication;
        }

        return authentication.AddOpenIdConnect(Scheme, settings.DisplayName, oidc =>
        {
            oidc.Authority = settings.Authority!.ToString();
            oidc.RequireHttpsMetadata = !settings.Authority.IsLoopback;
            oidc.ClientId = settings.ClientId;
            oidc.ClientSecret = Hosting.ConfiguredSecret.Read(settings.ClientSecret, settings.ClientSecretFile)
                ?? throw new InvalidOperationException($"{OpsOpenIdConnectOptions.Section}:ClientSecretFile cannot be read");
            oidc.ResponseType = "code";
            oidc.ResponseMode = "query";
            oidc.UsePkce = true;
            oidc.CallbackPath = CallbackPath;
            oidc.SignInScheme = CookieAuthenticationDefaults.AuthenticationScheme;
            oidc.MapInboundClaims = false; // amr, acr, roles as the provider names them
            oidc.GetClaimsFromUserInfoEndpoint = false;
            oidc.SaveTokens = false;
            oidc.Scope.Clear();
            oidc.Scope.Add("openid");
            oidc.Scope.Add("profile");
            oidc.Scope.Add("roles");
            // Over plain http (loopback) the correlation and nonce cookies must not ask for Secure; Lax lets the
            // provider's redirect back carry them.
            oidc.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            oidc.CorrelationCookie.SameSite = SameSiteMode.Lax;
            oidc.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            oidc.NonceCookie.SameSite = SameSiteMode.Lax;
            oidc.Events = new OpenIdConnectEvents
            {
                OnTokenValidated = TokenValidatedAsync,
                OnRemoteFailure = context =>
                {
                    // The refusal is in the audit; the person sees the sign-in page saying so, not an error page.
                    context.Response.Redirect("/ops/signin?refused=oidc");
                    context.HandleResponse();
                    return Task.CompletedTask;
                },
            };
        });
    }

    /// <summary>The provider's sign-in, checked for a second factor and turned into the ops app's own principal.</summary>
    static async Task TokenValidatedAsync(TokenValidatedContext context)
    {
        var services = context.HttpContext.RequestServices;
        var settings = services.GetRequiredService<IOptions<OpsOpenIdConnectOptions>>().Value;
        var audit = services.GetRequiredService<OpsAudit>();
        var refusals = services.GetRequiredService<RefusedSignIns>();
        var time = services.GetRequiredService<TimeProvider>();
        var provided = context.Principal!;
        var name = provided.FindFirst(settings.NameClaim)?.Value ?? "";
        var amr = provided.FindAll("amr").Select(c => c.Value).ToList();
        var acr = provided.FindFirst("acr")?.Value;
        var roles = Values(provided, settings.RolesClaim).Where(OpsRoles.All.Contains).Distinct().ToList();
        var controllers = Values(provided, settings.ControllersClaim).Distinct().ToList();
        var how = $"amr {(amr.Count == 0 ? "none" : string.Join(" ", amr))}{(acr is null ? "" : $", acr {acr}")}";
        var actor = name.Length is > 0 and <= 100 ? "oidc:" + name : "oidc:(no name)";
        if (settings.RequireMfa && !settings.IsMultiFactor(amr, acr))
        {
            await refusals.RecordAsync(context.HttpContext, actor, $"the provider's sign-in had no second factor ({how})", OpsScope.Of(controllers), context.HttpContext.RequestAborted);
            context.Fail("the provider's sign-in had no second factor");
            return;
        }

        context.Principal = OpsAccess.Principal(actor, roles, controllers, CookieAuthenticationDefaults.AuthenticationScheme, [
            new Claim(SourceClaim, "oidc"),
            new Claim(OpsAccess.SignedInClaim, time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
            .. amr.Select(m => new Claim(OpsAccess.MethodsClaim, m)),
            .. acr is null ? [] : new[] { new Claim(LevelClaim, acr) },
        ]);
        await audit.RecordAsync(actor, OpsAudit.Actions.SignedIn, "", $"{string.Join(",", roles)}; by the OpenID Connect provider ({how})", OpsScope.Of(controllers), context.HttpContext.RequestAborted);
    }

    static IEnumerable<string> Values(ClaimsPrincipal principal, string claim) =>
        principal.FindAll(claim).SelectMany(c => c.Value.Split(' ', ',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
