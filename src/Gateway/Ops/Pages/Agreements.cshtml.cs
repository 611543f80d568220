using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Policy;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Gateway.Ops.Pages;

/// <summary>The GDPR art. 30 record of processing, from the agreements the gateway runs on, with their lint status.</summary>
[Authorize(Policy = OpsPolicies.Register)]
public sealed class AgreementsModel(PolicyEngine engine, IOptions<AgreementsOptions> options) : PageModel
{
    public IReadOnlyList<ProcessingRegister.Entry> Entries { get; private set; } = [];
    public IReadOnlyList<AgreementError> Findings { get; private set; } = [];
    public string Directory => options.Value.Directory;

    public void OnGet()
    {
        Entries = ProcessingRegister.Build(engine.Agreements, EventCatalogue.Default);
        Findings = AgreementLinter.Lint(engine.Agreements, EventCatalogue.Default);
    }
}
