using System.CommandLine;
using System.CommandLine.Help;
using ZeroDL.Cli;
using ZeroDL.Data;

// zerodl: train, evaluate and query ZeroDL models from the command line.
// Exit codes: 0 success, 1 a file is missing/unreadable/invalid, 2 a bad argument, 3 training diverged, 130 interrupted.
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
    // Ctrl+C cancels the action's token; training stops after the current mini-batch and its epoch's
    // evaluation, which may take a few seconds, before the process exits with 130.
    return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = TimeSpan.FromSeconds(60) });
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
