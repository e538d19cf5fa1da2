using System.CommandLine;
using System.CommandLine.Help;
using ZeroDL.Cli;
using ZeroDL.Data;

// zerodl: train, evaluate and query ZeroDL models from the command line.
// Exit codes: 0 success, 1 a file is missing/unreadable/invalid, 2 a bad argument, 3 training diverged, 128 + the signal's
// number when a signal stopped it (130 Ctrl+C/SIGINT, 143 SIGTERM, 129 SIGHUP).
// A plain Command named "zerodl" (not RootCommand, which takes the executable's name) so help says "zerodl".
var root = new Command("zerodl", "ZeroDL — deep learning from scratch in C#: train, evaluate and query models on MNIST or your own images.")
{
    new HelpOption(),
    new VersionOption(),
    TrainCommand.Create(),
    EvaluateCommand.Create(),
    PredictCommand.Create(),
    ImportCommand.Create(),
    ExportCommand.Create(),
    ConvertCommand.Create(),
    MisclassifiedCommand.Create(),
    FiltersCommand.Create(),
    ExperimentCommand.Create(),
    TuneCommand.Create(),
    ServeCommand.Create(),
    BenchCommand.Create(),
    SummaryCommand.Create(),
    DataCommand.Create(),
    RunsCommand.Create(),
    LrFindCommand.Create(),
};

ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // One line: System.CommandLine lists allowed values on separate lines. A word it does not know is named first
    // ("zerodl frobnicate" also lacks a command, but the word typed is what to fix).
    var error = parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parsed.Errors[0];
    string message = System.Text.RegularExpressions.Regex.Replace(error.Message, @"\s*\n\s*", " ");
    message = Cli.PlainTypeNames(message);
    Console.Error.WriteLine($"zerodl: {message}");
    Console.Error.WriteLine($"Run '{Cli.CommandPath(parsed)} --help' for usage.");
    return Cli.UsageError;
}
try
{
    // Ctrl+C, SIGTERM and SIGHUP cancel the action's token (Termination); training stops after the current
    // mini-batch, writes that point's checkpoint and exits with 128 + the signal's number. Commands that do not take
    // the token (the short ones) are left to the signals' default: they end at once.
    using var termination = parsed.Action is System.CommandLine.Invocation.AsynchronousCommandLineAction ? new Termination() : null;
    var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
    if (termination is null) return await parsed.InvokeAsync(configuration);
    return await termination.ExitCodeOf(parsed.InvokeAsync(configuration, termination.Token));
}
catch (UsageException e)
{
    Console.Error.WriteLine($"zerodl: {e.Message}");
    return Cli.UsageError;
}
catch (DataFormatException e)
{
    Console.Error.WriteLine($"zerodl: {e.Message}");
    return Cli.FileError;
}
