namespace ZeroDL.Serialization;

/// <summary>
/// One tensor as a safetensors header declares it: its name, element type, shape, and its bytes
/// [<see cref="Begin"/>, <see cref="End"/>) counted from the start of the data section. A header that
/// <see cref="SafeTensors.ReadHeader"/> returned has been checked: the shape's element count times the element size is
/// End − Begin, and the ranges of all tensors tile the data section without gaps or overlaps.
/// </summary>
public sealed record TensorEntry(string Name, StoredType Type, IReadOnlyList<int> Shape, long Begin, long End)
{
    /// <summary>The number of values (the product of the shape; 1 for a scalar).</summary>
    public int Count => (int)((End - Begin) / SafeTensors.ElementSize(Type));
}

/// <summary>
/// The checked header of a safetensors file: its tensors in the order the file lists them, its string metadata, and
/// the offset of the data section in the file's bytes. Reading it allocates nothing in proportion to the tensors' data,
/// so a caller can compare the declared shapes with what it expects before any value is decoded.
/// </summary>
public sealed record SafeTensorsHeader(IReadOnlyList<TensorEntry> Tensors, IReadOnlyDictionary<string, string> Metadata, int DataStart);
