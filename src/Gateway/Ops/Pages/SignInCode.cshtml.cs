using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Gateway.Ops.Pages;

/// <summary>The second step of a sign-in: the code of the user's authenticator app, or one of their recovery codes. Every refusal is recorded.</summary>
[AllowAnonymous]
[Microsoft.AspNetCore.RateLimiting.EnableRateLimiting(OpsAccess.SignInLimit)]
public sealed class SignInCodeModel(IOptions<OpsOptions> options, OpsAudit audit, RefusedSignIns refusals, PendingSignIns pending, SecondFactor secondFactor, TimeProvider time) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public bool Refused { get; private set; }

    public IActionResult OnGet() => pending.Find(HttpContext, options.Value) is null ? LocalRedirect("/ops/signin") : Page();

    public async Task<IActionResult> OnPostAsync(string? code, CancellationToken cancellationToken)
    {
        if (pending.Find(HttpContext, options.Value) is not var (name, user))
        {
            return LocalRedirect("/ops/signin"); // expired, or a password changed meanwhile: from the start
        }

        var kind = (code ?? "").Length is > 0 and <= 40 ? await secondFactor.UseAsync(name, user, code!, cancellationToken) : null;
        if (kind is null)
        {
            await refusals.RecordAsync(HttpContext, name, "password right, second factor wrong or used before", OpsScope.Of(user.Controllers), cancellationToken);
            await Task.Delay(TimeSpan.FromMilliseconds(500), time, cancellationToken); // slows guessing, with the rate limit
            Refused = true;
            return Page();
        }

        PendingSignIns.End(HttpContext);
        return await SignInModel.CompleteAsync(HttpContext, options.Value, audit, time, name, user, $"pwd {kind}", Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : null, cancellationToken);
    }
}
