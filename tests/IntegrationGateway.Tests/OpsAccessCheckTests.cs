using IntegrationGateway.Gateway.Ops;

namespace IntegrationGateway.Tests;

/// <summary>Sign-in against the users of configuration: the right password gives the roles, anything else nothing.</summary>
public sealed class OpsAccessCheckTests
{
    static readonly OpsOptions Options = new()
    {
        Users =
        {
            ["ana"] = new OpsUser { PasswordHash = OpsAccess.HashPassword("a long enough password"), Roles = ["operator", "admin"] },
            ["broken"] = new OpsUser { PasswordHash = "not a hash", Roles = ["admin"] },
        },
    };

    [Fact]
    public void Check_TheRightPassword_GivesTheUsersRoles() =>
        Assert.Equal(["operator", "admin"], OpsAccess.Check(Options, "ana", "a long enough password")!.Roles);

    [Theory]
    [InlineData("ana", "a long enough passwor")]
    [InlineData("ana", "")]
    [InlineData("bob", "a long enough password")]
    [InlineData("broken", "not a hash")]
    public void Check_AnythingElse_GivesNothing(string user, string password) => Assert.Null(OpsAccess.Check(Options, user, password));

    [Fact]
    public void HashPassword_IsSaltedAndNeverThePassword()
    {
        var first = OpsAccess.HashPassword("a long enough password");
        Assert.NotEqual(first, OpsAccess.HashPassword("a long enough password"));
        Assert.DoesNotContain("a long enough password", first);
    }

    [Fact]
    public void Principal_KeepsOnlyKnownRoles()
    {
        var principal = OpsAccess.Principal("ana", ["admin", "root", "dpo"], [], "test");
        Assert.True(principal.IsInRole("admin"));
        Assert.True(principal.IsInRole("dpo"));
        Assert.False(principal.IsInRole("root"));
    }

    [Fact]
    public void Scope_IsTheUsersControllers_AllOnlyForThePlatform_NoneByDefault()
    {
        var school = OpsScope.Of(OpsAccess.Principal("ana", ["operator"], ["school-003"], "test"));
        var platform = OpsScope.Of(OpsAccess.Principal("ana", ["operator"], ["school-003", OpsScope.Platform], "test"));
        var none = OpsScope.Of(OpsAccess.Principal("ana", ["operator"], [], "test"));

        Assert.Equal((false, true, false), (school.IsPlatform, school.Sees("school-003"), school.Sees("demo-school-b")));
        Assert.Equal((true, true), (platform.IsPlatform, platform.Sees("demo-school-b")));
        Assert.Equal((false, false), (none.IsPlatform, none.Sees("school-003")));
    }
}
