using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IntegrationGateway.IntegrationTests.Infrastructure;

/// <summary>
/// An organisation's OpenID Connect provider for the tests: OpenIddict's server (authorization code flow with PKCE,
/// signed id tokens) on loopback, without a database (degraded mode: the one client is checked here). Its sign-in
/// page lets the test choose who signs in, and how: <c>with-mfa</c> (amr pwd otp) or <c>password-only</c> (amr pwd),
/// both admins of every controller.
/// </summary>
internal sealed class OidcProvider : IAsyncDisposable
{
    public const string ClientId = "integration-gateway-ops";
    public const string ClientSecret = "test-provider-secret-of-this-run";

    readonly WebApplication _app;

    OidcProvider(WebApplication app) => _app = app;

    public Uri Authority => new(_app.Urls.First().TrimEnd('/') + "/");

    /// <summary>The settings that point the gateway's ops app at this provider.</summary>
    public Dictionary<string, string?> GatewaySettings() => new()
    {
        ["Ops:OpenIdConnect:Enabled"] = "true",
        ["Ops:OpenIdConnect:Authority"] = Authority.ToString(),
        ["Ops:OpenIdConnect:ClientId"] = ClientId,
        ["Ops:OpenIdConnect:ClientSecret"] = ClientSecret,
        ["Ops:OpenIdConnect:DisplayName"] = "the test provider",
    };

    public static async Task<OidcProvider> StartAsync(Func<Uri> gatewayCallback)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{TestServices.FreePort()}");
        builder.Services.AddOpenIddict().AddServer(server =>
        {
            server.SetAuthorizationEndpointUris("connect/authorize").SetTokenEndpointUris("connect/token");
            server.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
            server.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Roles);
            server.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
            server.DisableAccessTokenEncryption();
            // No database: tokens are self-contained, and the one client is checked by the handlers below.
            server.EnableDegradedMode();
            server.DisableTokenStorage();
            server.UseAspNetCore().EnableAuthorizationEndpointPassthrough().DisableTransportSecurityRequirement();
            server.AddEventHandler<OpenIddictServerEvents.ValidateAuthorizationRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId || context.RedirectUri != gatewayCallback().ToString())
                {
                    context.Reject(Errors.InvalidClient, "unknown client or redirect address");
                }

                return default;
            }));
            server.AddEventHandler<OpenIddictServerEvents.ValidateTokenRequestContext>(handler => handler.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId || context.ClientSecret != ClientSecret)
                {
                    context.Reject(Errors.InvalidClient, "unknown client or wrong secret");
                }

                return default;
            }));
        });
        builder.Services.AddAuthentication();
        var app = builder.Build();
        app.UseAuthentication();
        app.MapMethods("/connect/authorize", ["GET", "POST"], async (HttpContext http) =>
        {
            var request = http.GetOpenIddictServerRequest()!;
            var who = http.Request.HasFormContentType ? http.Request.Form["who"].ToString() : "";
            if (who is not ("with-mfa" or "password-only"))
            {
                // The provider's sign-in page: the test picks the person; the request's parameters ride along.
                var hidden = string.Concat(request.GetParameters().Select(p =>
                    $"<input type=\"hidden\" name=\"{HtmlEncoder.Default.Encode(p.Key)}\" value=\"{HtmlEncoder.Default.Encode(p.Value.ToString() ?? "")}\" />"));
                return Results.Content($"""
                    <!doctype html><html><head><title>Test provider: sign in</title></head><body>
                    <h1>The organisation's sign-in (test provider)</h1>
                    <form method="post">{hidden}
                    <p><button id="with-mfa" name="who" value="with-mfa">Sign in with password and authenticator code</button></p>
                    <p><button id="password-only" name="who" value="password-only">Sign in with password only</button></p>
                    </form></body></html>
                    """, "text/html");
            }

            var identity = new ClaimsIdentity("test-provider", Claims.Name, Claims.Role);
            identity.AddClaim(new Claim(Claims.Subject, who));
            identity.AddClaim(new Claim(Claims.PreferredUsername, who));
            identity.AddClaim(new Claim("roles", "admin"));
            identity.AddClaim(new Claim("roles", "dpo"));
            identity.AddClaim(new Claim("controllers", "*"));
            identity.AddClaim(new Claim(Claims.AuthenticationMethodReference, "pwd"));
            if (who == "with-mfa")
            {
                identity.AddClaim(new Claim(Claims.AuthenticationMethodReference, "otp"));
            }

            identity.SetScopes(request.GetScopes());
            identity.SetDestinations(_ => [Destinations.IdentityToken]);
            return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });
        await app.StartAsync();
        return new OidcProvider(app);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
