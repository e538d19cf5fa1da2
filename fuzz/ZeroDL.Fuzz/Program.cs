using SharpFuzz;
using ZeroDL.Fuzzing;

// ZeroDL.Fuzz TARGET           under afl-fuzz: SharpFuzz's fork server feeds each input to the target (stdin)
// ZeroDL.Fuzz TARGET FILE...   replays files once each and says how each ended (a finding's exception propagates)
// ZeroDL.Fuzz --write-corpus DIR   writes the seed corpus, DIR/<target>/...
if (args is ["--write-corpus", var corpus])
{
    SeedCorpus.Write(corpus);
    return 0;
}
if (args.Length == 0 || !FuzzTargets.Names.Contains(args[0]))
{
    Console.Error.WriteLine($"usage: ZeroDL.Fuzz TARGET [FILE...]; targets: {string.Join(", ", FuzzTargets.Names)}");
    return 2;
}
string target = args[0];
// Parsers that only read files get the input through one scratch file per process, in a folder of its own.
string scratch = Path.Combine(Path.GetTempPath(), $"zerodl-fuzz-{target}-{Environment.ProcessId}");
Directory.CreateDirectory(scratch);
if (args.Length > 1)
{
    foreach (string file in args[1..])
    {
        bool valid = FuzzTargets.Run(target, File.ReadAllBytes(file), scratch);
        Console.WriteLine($"{file}: {(valid ? "valid" : "refused (DataFormatException)")}");
    }
    Directory.Delete(scratch, recursive: true);
    return 0;
}
Fuzzer.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    FuzzTargets.Run(target, buffer.ToArray(), scratch);
});
return 0;
