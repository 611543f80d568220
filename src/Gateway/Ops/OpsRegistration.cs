using Microsoft.AspNetCore.HttpOverrides;

namespace IntegrationGateway.Gateway.Ops;

/// <summary>
/// The ops web app, served by the gateway: server-rendered Razor Pages under <c>/ops</c> (no JavaScript build), signed
/// in with a cookie or through a trusted proxy, every page behind a role. Shows metadata only: decisions, reasons,
/// field names, outcomes, never a payload or an identifier (the subject report takes one in a form and keeps only
/// its pseudonym).
/// </summary>
public static class OpsRegistration
{
    public static IServiceCollection AddOpsApp(this IServiceCollection services, IConfiguration configuration)
    {
        // The pages are compiled into this assembly; named, so a host that is not this program (a test) finds them too.
        services.AddRazorPages(pages => pages.RootDirectory = "/Ops/Pages").AddApplicationPart(typeof(OpsRegistration).Assembly);
        services.AddOpsAccess(configuration);
        services.AddOpsKeys();
        services.AddSingleton<OpsAudit>();
        services.AddSingleton<SecondFactor>();
        services.AddSingleton<PendingSignIns>();
        services.AddSingleton<RefusedSignIns>();
        services.AddHostedService(provider => provider.GetRequiredService<RefusedSignIns>());
        services.AddSingleton<OpsQueries>();
        return services;
    }

    public static WebApplication MapOpsApp(this WebApplication app)
    {
        // Behind a TLS-terminating proxy named in Ops:ForwardedBy (and only then), the client's address and scheme
        // come from its X-Forwarded-For and -Proto: sign-in throttling counts each client, not the proxy, and the
        // cookie is Secure. From anyone else the headers are ignored: a client cannot pick its own address.
        var forwardedBy = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<OpsOptions>>().Value.ForwardedBy;
        if (forwardedBy.Count > 0)
        {
            // The connection's own address is kept: the trusted proxy is known by it, not by what it forwards.
            app.Use((context, next) =>
            {
                context.Items[OpsAccess.PeerKey] = context.Connection.RemoteIpAddress;
                return next(context);
            });
            var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto, ForwardLimit = 1 };
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in forwardedBy)
            {
                if (System.Net.IPAddress.TryParse(proxy, out var address)) // one that is not an address: refused at start (OpsOptions)
                {
                    forwarded.KnownProxies.Add(address);
                }
            }

            app.UseForwardedHeaders(forwarded);
        }

        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/ops"))
            {
                // Pages that may show a subject report: not kept in caches, not framed, no scripts from anywhere.
                var headers = context.Response.Headers;
                // As antiforgery sets it for the pages with forms, so it has nothing to override.
                headers.CacheControl = "no-cache, no-store";
                headers.Pragma = "no-cache";
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers.ContentSecurityPolicy = "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'none'; frame-ancestors 'none'; form-action 'self'";
            }

            await next(context);
        });
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapRazorPages();
        return app;
    }
}
