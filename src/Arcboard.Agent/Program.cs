using Arcboard.Agent;

return await AgentCli.RunAsync(args, Console.Out, Console.Error, Environment.GetEnvironmentVariables());
