using System.CommandLine;
using IntegrationGateway.Gateway.Ops;

namespace IntegrationGateway.Gateway.Cli;

/// <summary>
/// <c>ops hash-password</c>: the hash of a password read from standard input, for <c>Ops:Users:&lt;name&gt;:PasswordHash</c>.
/// <c>ops enrol-totp</c>: a user's second factor.
/// </summary>
internal static class OpsCommand
{
    public static Command Create()
    {
        var ops = new Command("ops", "The ops web app.");
        var hash = new Command("hash-password", "Read a password from standard input (one line) and print its hash for Ops:Users:<name>:PasswordHash. The password is not echoed or stored.");
        hash.SetAction(async (parse, cancellationToken) =>
        {
            var password = await GatewayCli.Input.ReadLineAsync(cancellationToken);
            if (string.IsNullOrEmpty(password) || password.Length < 12)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("ops hash-password: give a password of at least 12 characters on standard input, e.g. 'read -rs pw && echo \"$pw\" | ... ops hash-password'.");
                return ExitCodes.Usage;
            }

            await parse.InvocationConfiguration.Output.WriteLineAsync(OpsAccess.HashPassword(password));
            return ExitCodes.Ok;
        });
        ops.Subcommands.Add(hash);
        ops.Subcommands.Add(EnrolTotp());
        return ops;
    }

    /// <summary>
    /// <c>ops enrol-totp --user NAME</c>: a new second factor for a user the ops app signs in itself: the secret for
    /// <c>Ops:Users:&lt;name&gt;:TotpSecret</c>, the QR code an authenticator app scans (on the terminal, or a PNG with
    /// <c>--qr</c>), and ten recovery codes, shown once, with the hashes for <c>:RecoveryCodeHashes</c>.
    /// </summary>
    static Command EnrolTotp()
    {
        var user = new Option<string>("--user") { Description = "The user name, as in Ops:Users.", Required = true };
        var qr = new Option<FileInfo?>("--qr") { Description = "Also write the QR code to this new PNG file (readable by its owner only)." };
        var enrol = new Command("enrol-totp", "A new TOTP secret and recovery codes for an ops user: scan the QR code with an authenticator app, then set the printed settings (the secret through the environment or a file).")
        {
            user, qr,
        };
        enrol.Validators.Add(r =>
        {
            if (r.GetValue(user) is { } name && (name.Length is 0 or > 100 || name.Any(char.IsControl)))
            {
                r.AddError("ops enrol-totp: --user must be a user name of Ops:Users");
            }
        });
        enrol.SetAction(async (parse, cancellationToken) =>
        {
            var name = parse.GetValue(user)!;
            var (secret, uri, codes) = SecondFactor.Enrol(name);
            var output = parse.InvocationConfiguration.Output;
            using var data = QRCoder.QRCodeGenerator.GenerateQrCode(uri, QRCoder.QRCodeGenerator.ECCLevel.M);
            await output.WriteLineAsync($"Scan this with the authenticator app of {name} (or enter the secret by hand):");
            await output.WriteLineAsync(new QRCoder.AsciiQRCode(data).GetGraphicSmall());
            await output.WriteLineAsync(uri);
            if (parse.GetValue(qr) is { } file)
            {
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                await using var png = new FileStream(file.FullName, options);
                await png.WriteAsync(new QRCoder.PngByteQRCode(data).GetGraphic(8), cancellationToken);
                await output.WriteLineAsync($"QR code written to {file.FullName}; it holds the secret: delete it once scanned.");
            }

            await output.WriteLineAsync();
            await output.WriteLineAsync($"Recovery codes for {name}, each good for one sign-in; give them to {name} now, they are not shown again:");
            foreach (var code in codes)
            {
                await output.WriteLineAsync($"  {code}");
            }

            await output.WriteLineAsync();
            await output.WriteLineAsync("Settings (the secret is one: environment or a file; restart the gateway to apply; the user's sign-ins end):");
            await output.WriteLineAsync($"  Ops__Users__{name}__TotpSecret={secret}");
            for (var i = 0; i < codes.Count; i++)
            {
                await output.WriteLineAsync($"  Ops__Users__{name}__RecoveryCodeHashes__{i}={SecondFactor.RecoveryCodeHash(codes[i])}");
            }

            return ExitCodes.Ok;
        });
        return enrol;
    }
}
