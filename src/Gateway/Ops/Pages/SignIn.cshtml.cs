using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Gateway.Ops.Pages;

/// <summary>Sign-in with a user from <c>Ops:Users</c>; every attempt is recorded (the user name only when it is a configured one).</summary>
[AllowAnonymous]
[Microsoft.AspNetCore.RateLimiting.EnableRateLimiting(OpsAccess.SignInLimit)]
public sealed class SignInModel(IOptions<OpsOptions> options, IOptions<OpsOpenIdConnectOptions> oidc, OpsAudit audit, RefusedSignIns refusals, PendingSignIns pending, TimeProvider time) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public bool Refused { get; private set; }

    /// <summary>The organisation's provider, when sign-in through it is on: the page offers it.</summary>
    public OpsOpenIdConnectOptions? Provider => oidc.Value.Enabled ? oidc.Value : null;

    /// <summary>The provider refused, or its sign-in had no second factor (recorded in the audit).</summary>
    public bool RefusedByProvider { get; private set; }

    public void OnGet(string? refused) => RefusedByProvider = refused == "oidc";

    /// <summary>To the organisation's provider, and back to where the person was going.</summary>
    public IActionResult OnGetProvider() => Provider is null
        ? NotFound()
        : Challenge(new AuthenticationProperties { RedirectUri = Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/ops/transfers" }, OpsOpenIdConnect.Scheme);

    public async Task<IActionResult> OnPostAsync(string? user, string? password, CancellationToken cancellationToken)
    {
        var name = (user ?? "").Trim();
        var known = name.Length is > 0 and <= 100 ? OpsAccess.Check(options.Value, name, password ?? "") : null;
        if (known is null)
        {
            // A name that is no user may be a password typed in the wrong box: it is not written down. Seen by the
            // platform's admins, and by those of the user's own controllers.
            var scope = options.Value.Users.TryGetValue(name, out var configured) ? OpsScope.Of(configured.Controllers) : OpsScope.All;
            await refusals.RecordAsync(HttpContext, options.Value.Users.ContainsKey(name) ? name : "(unknown user)", "wrong user name or password", scope, cancellationToken);
            await Task.Delay(TimeSpan.FromMilliseconds(500), time, cancellationToken); // slows guessing
            Refused = true;
            return Page();
        }

        if (SecondFactor.IsEnrolled(known))
        {
            // The password is right; the sign-in waits for the code (the audit records the outcome of that step).
            pending.Start(HttpContext, name, known);
            return LocalRedirect($"/ops/signin/code{(Url.IsLocalUrl(ReturnUrl) ? "?returnUrl=" + Uri.EscapeDataString(ReturnUrl!) : "")}");
        }

        if (options.Value.RequireSecondFactor)
        {
            await refusals.RecordAsync(HttpContext, name, "password right, but no second factor enrolled (ops enrol-totp)", OpsScope.Of(known.Controllers), cancellationToken);
            NotEnrolled = true;
            return Page();
        }

        return await CompleteAsync(HttpContext, options.Value, audit, time, name, known, "pwd", Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : null, cancellationToken);
    }

    /// <summary>A user without a second factor where one is required: they are told to ask for enrolment.</summary>
    public bool NotEnrolled { get; private set; }

    /// <summary>Signs the user in, recording in the audit how (<paramref name="methods"/>: <c>pwd</c>, <c>pwd otp</c>, <c>pwd recovery-code</c>).</summary>
    internal static async Task<IActionResult> CompleteAsync(HttpContext http, OpsOptions options, OpsAudit audit, TimeProvider time, string name, OpsUser user, string methods, string? returnUrl, CancellationToken cancellationToken)
    {
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, OpsAccess.CookiePrincipal(options, name, time.GetUtcNow(), methods.Split(' ')));
        await audit.RecordAsync(name, OpsAudit.Actions.SignedIn, "", $"{string.Join(",", user.Roles)}; by {methods.Replace(" ", " + ", StringComparison.Ordinal)}", OpsScope.Of(user.Controllers), cancellationToken);
        return new LocalRedirectResult(returnUrl ?? (user.Roles.Contains(OpsRoles.Operator) || user.Roles.Contains(OpsRoles.Admin) ? "/ops/transfers" : "/ops/agreements"));
    }
}
