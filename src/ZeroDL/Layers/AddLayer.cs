namespace ZeroDL.Layers;

/// <summary>The book's addition node on scalars (ch. 5.4.2): z = x + y; the gradient passes through unchanged.</summary>
public sealed class AddLayer
{
    public double Forward(double x, double y) => x + y;

    public (double dx, double dy) Backward(double dout) => (dout, dout);
}
