namespace ZeroDL.Bench;

internal static class TwoLayerBench
{
    public static int Run(int iterations) => 0;
}
