namespace ZeroDL.Functions;

/// <summary>
/// The book's ch. 2 perceptron: output 1 when w·x + b &gt; 0, else 0. AND, NAND and OR are one perceptron each
/// with the book's weights and biases; XOR is not linearly separable and needs two layers: AND(NAND, OR).
/// </summary>
public static class Perceptron
{
    /// <summary>A single perceptron of two inputs.</summary>
    public static int Fire(double x1, double x2, double w1, double w2, double bias) => w1 * x1 + w2 * x2 + bias > 0 ? 1 : 0;

    public static int And(int x1, int x2) => Fire(x1, x2, 0.5, 0.5, -0.7);
    public static int Nand(int x1, int x2) => Fire(x1, x2, -0.5, -0.5, 0.7);
    public static int Or(int x1, int x2) => Fire(x1, x2, 0.5, 0.5, -0.2);

    /// <summary>A two-layer perceptron: the first layer computes NAND and OR, the second ANDs them.</summary>
    public static int Xor(int x1, int x2) => And(Nand(x1, x2), Or(x1, x2));
}
