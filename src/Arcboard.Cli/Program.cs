using Arcboard.Cli;

return await ArcboardCli.RunAsync(args, CliConsole.System);
