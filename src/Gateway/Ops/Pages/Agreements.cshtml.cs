using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Policy;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Gateway.Ops.Pages;

/// <summary>The GDPR art. 30 record of processing, from the agreements the gateway runs on, with their lint status.</summary>
[Authorize(Policy = OpsPolicies.Register)]
public sealed class AgreementsModel(PolicyEngine engine, ControllerRegistry controllers, IOptions<AgreementsOptions> options, AgreementApprovals approvals, TimeProvider time) : PageModel
{
    /// <summary>Per controller the reader may see: the controller and the agreements it is party to (its art. 30 record).</summary>
    public IReadOnlyList<(Controller Controller, IReadOnlyList<ProcessingRegister.Entry> Entries)> Records { get; private set; } = [];
    public IReadOnlyList<AgreementError> Findings { get; private set; } = [];
    public string Directory => options.Value.Directory;

    /// <summary>The text of the agreement the gateway runs on, and whether a DPO approved it (else its transfers are held).</summary>
    public (string Hash, bool Approved) Text(string agreementId) =>
        engine.Agreements.FirstOrDefault(a => a.Id == agreementId) is { } a ? (a.Hash, approvals.Approves(a)) : ("", false);

    /// <summary>Whether the signed-in user may approve it (<see cref="MayApprove(System.Security.Claims.ClaimsPrincipal, ControllerRegistry, string)"/>).</summary>
    public bool MayApprove(string agreementId) => MayApprove(User, controllers, agreementId);

    /// <summary>
    /// A DPO of a controller party to the agreement that is not synthetic (a demo tenant's DPO approves nothing for the
    /// real controllers' data), or the platform's DPO.
    /// </summary>
    public static bool MayApprove(System.Security.Claims.ClaimsPrincipal user, ControllerRegistry controllers, string agreementId)
    {
        var scope = OpsScope.Of(user);
        return user.IsInRole(OpsRoles.Dpo) && (scope.IsPlatform || controllers.All.Any(c => c.PartyTo(agreementId) && !c.Synthetic && scope.Sees(c.Id)));
    }

    public void OnGet()
    {
        var scope = OpsScope.Of(User);
        Records = [.. controllers.All.Where(c => scope.Sees(c.Id)).OrderBy(c => c.Synthetic).ThenBy(c => c.Id, StringComparer.Ordinal)
            .Select(c => (c, ProcessingRegister.Build(engine.Agreements, EventCatalogue.Default, c)))];
        // Reviews due or overdue are the DPO's to see, with the lint's findings for the platform's staff.
        var reviews = new List<AgreementError>();
        reviews.AddRange(AgreementLinter.InForce(engine.Agreements, PolicyEngine.LegalDate(time.GetUtcNow()), reviews));
        Findings = [.. (scope.IsPlatform ? AgreementLinter.Lint(engine.Agreements, EventCatalogue.Default) : []), .. reviews];
    }
}
