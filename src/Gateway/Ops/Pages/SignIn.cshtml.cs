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
public sealed class SignInModel(IOptions<OpsOptions> options, OpsAudit audit, TimeProvider time) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public bool Refused { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(string? user, string? password, CancellationToken cancellationToken)
    {
        var name = (user ?? "").Trim();
        var known = name.Length is > 0 and <= 100 ? OpsAccess.Check(options.Value, name, password ?? "") : null;
        if (known is null)
        {
            // A name that is no user may be a password typed in the wrong box: it is not written down. Seen by the
            // platform's admins, and by those of the user's own controllers.
            var scope = options.Value.Users.TryGetValue(name, out var configured) ? OpsScope.Of(configured.Controllers) : OpsScope.All;
            await audit.RecordAsync(options.Value.Users.ContainsKey(name) ? name : "(unknown user)", OpsAudit.Actions.SignInRefused, "", "", scope, cancellationToken);
            await Task.Delay(TimeSpan.FromMilliseconds(500), time, cancellationToken); // slows guessing
            Refused = true;
            return Page();
        }

        var roles = known.Roles;
        await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, OpsAccess.CookiePrincipal(options.Value, name, time.GetUtcNow()));
        await audit.RecordAsync(name, OpsAudit.Actions.SignedIn, "", string.Join(",", roles), OpsScope.Of(known.Controllers), cancellationToken);
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : roles.Contains(OpsRoles.Operator) || roles.Contains(OpsRoles.Admin) ? "/ops/transfers" : "/ops/agreements");
    }
}
