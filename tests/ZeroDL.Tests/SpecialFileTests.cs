using System.Net.Sockets;
using System.Runtime.InteropServices;
using ZeroDL.Data;
using ZeroDL.Training;

namespace ZeroDL.Tests;

/// <summary>
/// A test of named pipes, sockets and devices: skipped where mkfifo(3) is missing (Windows) or where the library cannot
/// ask a file's kind without opening it (it asks Linux's statx(2); elsewhere such files are read as before).
/// </summary>
public sealed class SpecialFileFactAttribute : FactAttribute
{
    public SpecialFileFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "the library tells a named pipe from a file with Linux's statx(2) (and Windows has no mkfifo)";
    }
}

/// <summary>
/// Named pipes, sockets and devices where a file is expected — in an image folder, as --image, as a model or data file —
/// are refused with a one-line error naming them, without being opened: opening a pipe for reading waits for a writer
/// (train and predict hung on one), and /dev/zero reads without end. Each test fails, instead of hanging the suite, if
/// that ever takes more than <see cref="Limit"/>.
/// </summary>
public class SpecialFileTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo(string path, uint mode);

    internal static string Fifo(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Assert.True(MakeFifo(path, Convert.ToUInt32("644", 8)) == 0, $"mkfifo {path}: errno {Marshal.GetLastPInvokeError()}");
        return path;
    }

    /// <summary>
    /// <paramref name="read"/>'s refusal, within <see cref="Limit"/>. On overrun a reader blocked opening
    /// <paramref name="fifo"/> is let go (by a writer opening and closing it) before the test fails.
    /// </summary>
    private static DataFormatException Refused(Action read, string? fifo = null)
    {
        var task = Task.Run(() => Assert.Throws<DataFormatException>(read));
        if (task.Wait(Limit)) return task.Result;
        if (fifo is not null) _ = Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Write).Dispose());
        Assert.Fail($"reading took more than {Limit.TotalSeconds:0} s: the file was opened");
        return null!;
    }

    [SpecialFileFact]
    public void A_named_pipe_as_the_destination_of_a_write_is_refused_and_left_a_pipe()
    {
        // The atomic write's rename would have replaced the pipe (as root, a device such as /dev/null too) with a
        // regular file.
        string pipe = Fifo(Path.Combine(TestPaths.NewTempDirectory(), "out.safetensors"));
        bool called = false;
        var e = Assert.Throws<DataFormatException>(() => ZeroDL.Serialization.AtomicFile.Write(pipe, _ => called = true));
        Assert.Equal($"{pipe}: is a named pipe, not a regular file; name a file to write", e.Message);
        Assert.False(called);
        Assert.Equal("a named pipe", FileKind.NotRegular(pipe));
    }

    private static string Tree() => ImageHardeningTests.Tree();

    private static readonly ImageFolderOptions Split = new() { TestSplit = 0.5 };

    [SpecialFileFact]
    public void A_named_pipe_in_an_image_folder_is_refused_naming_it_and_a_hidden_one_is_skipped()
    {
        string dir = Tree(), fifo = Fifo(Path.Combine(dir, "b", "sub", "2.png"));
        Assert.Equal($"{fifo}: not a regular file (a named pipe)", Refused(() => ImageFolder.Load(dir, Split), fifo).Message);
        File.Delete(fifo);
        // A hidden one is skipped, as every hidden file is: never opened.
        string hidden = Fifo(Path.Combine(dir, "b", ".2.png"));
        var load = Task.Run(() => ImageFolder.Load(dir, Split));
        if (!load.Wait(Limit))
        {
            _ = Task.Run(() => new FileStream(hidden, FileMode.Open, FileAccess.Write).Dispose());
            Assert.Fail($"loading took more than {Limit.TotalSeconds:0} s: the hidden pipe was opened");
        }
        Assert.Equal(4, load.Result.Train.Count + load.Result.Test.Count);
    }

    [SpecialFileFact]
    public void A_symbolic_link_to_an_image_is_read_and_one_to_a_named_pipe_is_refused()
    {
        string dir = Tree(), outside = TestPaths.NewTempDirectory();
        ImageFolderTests.WritePng(Path.Combine(outside, "x.png"), 4, 4, 1, 2, 3);
        File.CreateSymbolicLink(Path.Combine(dir, "a", "linked.png"), Path.Combine(outside, "x.png"));
        Assert.Contains(Path.Combine(dir, "a", "linked.png"), ImageFolder.FilesUnder(Path.Combine(dir, "a")));
        var (train, test) = ImageFolder.Load(dir, Split);
        Assert.Equal(5, train.Count + test.Count);

        string fifo = Fifo(Path.Combine(outside, "pipe.png")), link = Path.Combine(dir, "b", "piped.png");
        File.CreateSymbolicLink(link, fifo);
        Assert.Equal($"{link}: not a regular file (a symbolic link to a named pipe)", Refused(() => ImageFolder.FilesUnder(dir), fifo).Message);
    }

    [SpecialFileFact]
    public void Sockets_and_devices_are_refused_in_a_folder_and_as_a_file()
    {
        string dir = Tree(), path = Path.Combine(dir, "a", "2.png");
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            Assert.Equal($"{path}: not a regular file (a socket)", Refused(() => ImageFolder.Load(dir, Split)).Message);
            Assert.Equal($"{path}: not a regular file (a socket)", Refused(() => DataFile.ReadAllBytes(path)).Message);
        }
        File.Delete(path);
        Assert.Equal("/dev/zero: not a regular file (a character device)", Refused(() => DataFile.ReadAllBytes("/dev/zero")).Message);
        File.CreateSymbolicLink(path, "/dev/zero");
        Assert.Equal($"{path}: not a regular file (a symbolic link to a character device)", Refused(() => ImageFolder.Load(dir, Split)).Message);
    }

    [SpecialFileFact]
    public void Every_reader_of_a_named_file_refuses_a_named_pipe()
    {
        string dir = TestPaths.NewTempDirectory();
        string fifo = Fifo(Path.Combine(dir, "model.safetensors"));
        string expected = $"{fifo}: not a regular file (a named pipe)";
        Assert.Equal(expected, Refused(() => Serialization.ModelFile.Load(fifo), fifo).Message);
        Assert.Equal(expected, Refused(() => Imaging.PixelImage.Load(fifo), fifo).Message);
        Assert.Equal(expected, Refused(() => Idx.Read(fifo, 3), fifo).Message);
        Assert.Equal(expected, Refused(() => RunLog.Read(fifo), fifo).Message);
        // An IDX folder of pipes (train --data DIR): the first one read is named.
        string idx = Path.Combine(dir, "idx");
        foreach (var name in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" }) Fifo(Path.Combine(idx, name));
        Assert.Matches($@"^{System.Text.RegularExpressions.Regex.Escape(idx)}/(train|t10k)-(images-idx3|labels-idx1)-ubyte: not a regular file \(a named pipe\)$",
            Refused(() => ImageDatasets.Load(idx)).Message);
    }

    [SpecialFileFact]
    public void Zerodl_train_and_predict_refuse_a_named_pipe_with_exit_1()
    {
        // train --data DIR with a pipe in a class folder.
        string data = Tree(), fifo = Fifo(Path.Combine(data, "a", "2.png"));
        var (code, _, err) = CliTests.Run(Limit, "train", "--data", data, "--test-split", "0.5", "--epochs", "1");
        Assert.Equal(1, code);
        Assert.Equal($"zerodl: {fifo}: not a regular file (a named pipe)", err.Trim());

        // predict --image FOLDER, --image PIPE, --image /dev/zero, and --model PIPE.
        string work = TestPaths.NewTempDirectory(), model = Path.Combine(work, "sample.safetensors");
        (code, _, err) = CliTests.Run(Limit, "import", "--from", Path.Combine("data", "reference", "sample_weight.npz"), "--model", "sample", "--out", model);
        Assert.True(code == 0, err);
        string folder = Path.Combine(work, "new");
        File.Copy(Path.Combine(data, "b", "0.png"), Path.Combine(Directory.CreateDirectory(folder).FullName, "0.png"));
        string image = Fifo(Path.Combine(folder, "1.png"));
        foreach (var (args, culprit, kind) in new[]
        {
            (new[] { "--model", model, "--image", folder }, image, "a named pipe"),
            (new[] { "--model", model, "--image", image }, image, "a named pipe"),
            (new[] { "--model", model, "--image", "/dev/zero" }, "/dev/zero", "a character device"),
            (new[] { "--model", image, "--image", Path.Combine(folder, "0.png") }, image, "a named pipe"),
        })
        {
            (code, _, err) = CliTests.Run(Limit, ["predict", .. args]);
            Assert.True(code == 1, string.Join(' ', args) + ": " + err);
            Assert.Equal($"zerodl: {culprit}: not a regular file ({kind})", err.Trim());
        }

        // A pipe whose name is no image's is ignored by predict, as any other file that is not an image.
        string other = Path.Combine(work, "other");
        ImageFolderTests.WritePng(Path.Combine(other, "0.png"), 28, 28, 255);
        Fifo(Path.Combine(other, "agent.fifo"));
        (code, string text, err) = CliTests.Run(Limit, "predict", "--model", model, "--image", other);
        Assert.True(code == 0, err);
        Assert.StartsWith(Path.Combine(other, "0.png") + ": ", text.Trim());
    }
}
