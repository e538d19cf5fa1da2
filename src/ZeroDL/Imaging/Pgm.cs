using System.Text;
using ZeroDL.Data;

namespace ZeroDL.Imaging;

/// <summary>Netpbm graymaps: P5 (binary, 8- or 16-bit) and P2 (ASCII), with '#' comments in the header.</summary>
public static class Pgm
{
    public static GrayImage Decode(byte[] bytes, string source)
    {
        int pos = 0;
        string magic = Token(bytes, ref pos, source);
        if (magic is not ("P5" or "P2")) throw DataFormatException.For(source, $"not a PGM file (magic '{magic}')");
        int width = Number(bytes, ref pos, source, "width"), height = Number(bytes, ref pos, source, "height"), maxval = Number(bytes, ref pos, source, "maxval");
        if (width <= 0 || height <= 0 || (long)width * height > GrayImage.MaxPixels)
            throw DataFormatException.For(source, $"PGM size {width}×{height} is empty or larger than {GrayImage.MaxPixels} pixels");
        if (maxval < 1 || maxval > 65535) throw DataFormatException.For(source, $"PGM maxval {maxval} outside 1..65535");
        int count = width * height;
        // The file must be able to hold the pixels its header declares before their array is allocated: P5 stores
        // 1 or 2 bytes a pixel, P2 at least a digit and a separator for each (the last one's separator may be missing).
        if (magic == "P5")
        {
            if (pos >= bytes.Length || !IsSpace(bytes[pos])) throw DataFormatException.For(source, "corrupt PGM: no whitespace after maxval");
            pos++; // exactly one whitespace byte after maxval
        }
        int size = maxval > 255 ? 2 : 1;
        long needed = magic == "P5" ? (long)count * size : 2L * count - 1, present = Math.Max(0, bytes.Length - pos);
        if (present < needed)
            throw DataFormatException.For(source, magic == "P5"
                ? $"truncated PGM: {width}×{height} needs {needed} bytes of pixels, {present} present"
                : $"truncated PGM: {width}×{height} needs at least {needed} bytes of ASCII pixels, {present} present");
        var pixels = new float[count];
        if (magic == "P5")
        {
            for (int i = 0; i < pixels.Length; i++)
            {
                int v = size == 1 ? bytes[pos + i] : bytes[pos + 2 * i] << 8 | bytes[pos + 2 * i + 1];
                if (v > maxval) throw DataFormatException.For(source, $"PGM pixel {i} value {v} exceeds maxval {maxval}");
                pixels[i] = (float)v / maxval;
            }
        }
        else
        {
            for (int i = 0; i < pixels.Length; i++)
            {
                int v = Number(bytes, ref pos, source, $"pixel {i}");
                if (v > maxval) throw DataFormatException.For(source, $"PGM pixel {i} value {v} exceeds maxval {maxval}");
                pixels[i] = (float)v / maxval;
            }
        }
        return new GrayImage(width, height, pixels);
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C;

    private static string Token(byte[] bytes, ref int pos, string source)
    {
        while (pos < bytes.Length)
        {
            if (bytes[pos] == '#') { while (pos < bytes.Length && bytes[pos] != '\n') pos++; }
            else if (char.IsWhiteSpace((char)bytes[pos])) pos++;
            else break;
        }
        int start = pos;
        while (pos < bytes.Length && !char.IsWhiteSpace((char)bytes[pos]) && bytes[pos] != '#' && pos - start < 16) pos++;
        if (pos == start) throw DataFormatException.For(source, "truncated PGM header");
        return Encoding.ASCII.GetString(bytes, start, pos - start);
    }

    private static int Number(byte[] bytes, ref int pos, string source, string what)
    {
        string token = Token(bytes, ref pos, source);
        if (!int.TryParse(token, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int v))
            throw DataFormatException.For(source, $"PGM {what} '{token}' is not a non-negative integer");
        return v;
    }
}
