namespace ZeroDL.Layers;

/// <summary>The book's multiplication node on scalars (ch. 5.4.1): z = x·y; ∂z/∂x = y, ∂z/∂y = x.</summary>
public sealed class MulLayer
{
    private double _x, _y;

    public double Forward(double x, double y)
    {
        _x = x; _y = y;
        return x * y;
    }

    public (double dx, double dy) Backward(double dout) => (dout * _y, dout * _x);
}
