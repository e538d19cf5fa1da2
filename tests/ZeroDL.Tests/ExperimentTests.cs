using System.Xml.Linq;
using ZeroDL.Experiments;

namespace ZeroDL.Tests;

/// <summary>Each experiment at --quick size: its files exist and parse, and the book's result holds in its figures.</summary>
public class ExperimentTests
{
    private static (ExperimentResult Result, string Directory) Run(string name)
    {
        string root = TestPaths.NewTempDirectory();
        var (result, _, files) = ExperimentCatalog.Run(ExperimentCatalog.Find(name), root, quick: true, mnistDirectory: TestPaths.Mnist);
        string dir = Path.Combine(root, name);
        Assert.Contains("summary.md", files);
        foreach (var file in files)
        {
            Assert.True(new FileInfo(Path.Combine(dir, file)).Length > 0, file);
            if (file.EndsWith(".svg")) XDocument.Load(Path.Combine(dir, file)); // well-formed
        }
        Assert.Contains(files, f => f.EndsWith(".csv"));
        Assert.Contains(files, f => f.EndsWith(".svg") || f.EndsWith(".png"));
        return (result, dir);
    }

    [Fact]
    public void Gates_follow_their_truth_tables_and_xor_needs_two_layers()
    {
        var (r, dir) = Run("gates");
        foreach (var gate in new[] { "AND", "NAND", "OR", "XOR" }) Assert.Equal(4, r.Figures[gate + "_correct"]);
        Assert.Equal(["x1,x2,AND,NAND,OR,XOR", "0,0,0,1,0,0", "1,0,0,1,1,1", "0,1,0,1,1,1", "1,1,1,0,1,0"], File.ReadAllLines(Path.Combine(dir, "truth_tables.csv")));
    }

    [Fact]
    public void Activations_take_the_books_values()
    {
        var f = Run("activations").Result.Figures;
        Assert.Equal(0.5, f["sigmoid_0"]);
        Check.Close(0.73105858, f["sigmoid_1"], 1e-8);
        Assert.Equal(0, f["relu_-1"]); Assert.Equal(2, f["relu_2"]);
        Assert.Equal(0, f["step_0"]); Assert.Equal(1, f["step_1"]);
        Check.Close(Math.Tanh(1), f["tanh_1"], 1e-15);
    }

    [Fact]
    public void Numerical_diff_reproduces_the_books_values_and_the_rounding_failure()
    {
        var f = Run("numerical-diff").Result.Figures;
        Assert.Equal(0.1999999999990898, f["central_h1e-4"]);
        Assert.Equal(0.2999999999986347, f["central_at_10"]);
        Assert.Equal(0, f["derivative_h1e-50"]); // 5 + 1e-50 == 5
        Assert.Equal(0.2, f["error_forward_h1e-50"], 15);
        Assert.InRange(f["best_h_forward"], 1e-10, 1e-5); // truncation and rounding balance in between
    }

    [Fact]
    public void Gradient_descent_with_three_learning_rates_as_in_the_book()
    {
        var f = Run("gradient").Result.Figures;
        Check.Close(-6.1e-10, f["lr0.1_x0"], 0.02e-10); Check.Close(8.1e-10, f["lr0.1_x1"], 0.05e-10);
        Check.Close(-2.59e13, f["lr10_x0"], 0.01e13); Check.Close(-1.30e12, f["lr10_x1"], 0.01e12);
        Check.Close(-2.99999994, f["lr1E-10_x0"], 1e-8); Check.Close(3.99999992, f["lr1E-10_x1"], 1e-8);
    }

    [Fact]
    public void Sgd_zigzags_where_the_others_do_not()
    {
        var f = Run("optimizers-2d").Result.Figures;
        var names = Optimizers2DExperiment.Optimizers.Select(o => o.Name).ToList();
        Assert.All(names, n => Assert.True(f[n + "_final_distance"] < Math.Sqrt(53), $"{n} got closer to the minimum"));
        Assert.True(f["sgd_y_sign_changes"] >= 20, $"SGD y sign changes {f["sgd_y_sign_changes"]}");
        Assert.All(names.Where(n => n != "sgd"), n => Assert.True(f[n + "_y_sign_changes"] <= 5, $"{n}: {f[n + "_y_sign_changes"]}"));
    }

    [Fact]
    public void Weight_init_histograms_show_saturation_collapse_and_the_right_init()
    {
        var f = Run("weight-init-histograms").Result.Figures;
        Assert.True(f["sigmoid_std1_layer5_saturated"] > 0.5, "std 1: sigmoid outputs pile up at 0 and 1");
        Assert.True(f["sigmoid_std0.01_layer5_std"] < 0.02, "std 0.01: all near 0.5");
        Assert.True(f["sigmoid_Xavier_layer5_std"] > 0.05 && f["sigmoid_Xavier_layer5_saturated"] < 0.05, "Xavier: spread, not saturated");
        Assert.True(f["relu_std0.01_layer5_std"] < 1e-4, "ReLU with std 0.01 collapses towards 0");
        double ratio = f["relu_He_layer5_std"] / f["relu_He_layer1_std"];
        Assert.InRange(ratio, 0.33, 3); // He keeps the spread layer after layer
    }

    [Fact]
    public void Plain_sgd_is_the_slowest_optimizer_on_mnist()
    {
        var f = Run("optimizers-mnist").Result.Figures;
        foreach (var name in new[] { "momentum", "nesterov", "adagrad", "rmsprop", "adam" })
            Assert.True(f["sgd_final_loss"] > f[name + "_final_loss"], $"sgd {f["sgd_final_loss"]:F3} vs {name} {f[name + "_final_loss"]:F3}");
    }

    [Fact]
    public void Small_weights_do_not_learn_and_he_learns_fastest()
    {
        var f = Run("weight-init-mnist").Result.Figures;
        Assert.True(f["std0.01_final_loss"] > 2.2, $"std 0.01 loss {f["std0.01_final_loss"]:F3} should stay near ln 10");
        Assert.True(f["He_final_loss"] < f["Xavier_final_loss"] && f["Xavier_final_loss"] < f["std0.01_final_loss"]);
    }

    [Fact]
    public void Batchnorm_learns_at_most_weight_scales()
    {
        var f = Run("batchnorm").Result.Figures;
        Assert.True(f["bn_better_count"] >= 10, $"BatchNorm better at only {f["bn_better_count"]} of 16 scales");
    }

    [Fact]
    public void Unregularised_net_overfits_300_samples_and_regularisation_narrows_the_gap()
    {
        var f = Run("overfitting").Result.Figures;
        Assert.True(f["none_train"] > 0.95, $"train accuracy {f["none_train"]:F3}");
        Assert.True(f["none_gap"] > 0.2, $"gap {f["none_gap"]:F3}");
        Assert.True(f["weight_gap"] < f["none_gap"] && f["dropout_gap"] < f["none_gap"]);
    }

    [Fact]
    public void Backprop_agrees_with_the_numerical_gradient_and_is_far_faster()
    {
        var f = Run("numerical-vs-backprop").Result.Figures;
        foreach (var name in new[] { "affine1.W", "affine1.b", "affine2.W", "affine2.b" }) Assert.True(f[name] <= 1e-9, $"{name}: {f[name]:E2}");
        Assert.True(f["speedup"] > 100, $"backprop only {f["speedup"]:F0}× faster");
    }

    [Fact]
    public void Float16_weights_halve_the_file_and_keep_the_accuracy()
    {
        var f = Run("half-precision").Result.Figures;
        Assert.InRange(f["float16_bytes"] / f["float32_bytes"], 0.45, 0.55);
        Assert.True(Math.Abs(f["float16_accuracy"] - f["float32_accuracy"]) <= 0.0005, $"{f["float16_accuracy"]} vs {f["float32_accuracy"]}");
    }

    [Fact]
    public void Misclassified_are_the_books_indices()
    {
        var (r, dir) = Run("misclassified");
        Assert.Equal(16, r.Figures["misclassified"]); // the book's 65 misclassified test images include 16 among the first 2,000
        var indices = File.ReadAllLines(Path.Combine(dir, "misclassified.csv")).Skip(1).Select(l => int.Parse(l.Split(',')[0]));
        Assert.Equal([445, 449, 450, 582, 726, 900, 947, 1014, 1182, 1226, 1232, 1260, 1393, 1527, 1621, 1901], indices);
    }

    [Fact]
    public void Trained_filters_are_smoother_than_random_ones()
    {
        var f = Run("conv-filters").Result.Figures;
        Assert.InRange(f["roughness_before"], 1.6, 2.4); // independent values: 2
        Assert.True(f["roughness_after"] < 0.8 * f["roughness_before"], $"roughness {f["roughness_before"]:F2} → {f["roughness_after"]:F2}");
        Assert.True(f["test_accuracy"] > 0.9, $"test accuracy {f["test_accuracy"]:P1}");
    }

    [Fact]
    public void Augmentation_helps_a_small_training_set()
    {
        var (r, dir) = Run("augmentation");
        Assert.True(r.Figures["augmented_test"] > r.Figures["plain_test"], $"augmented {r.Figures["augmented_test"]:P2} vs plain {r.Figures["plain_test"]:P2}");
        Assert.True(File.Exists(Path.Combine(dir, "augmented_samples.png")));
    }

    [Fact]
    public void Depth_and_cross_entropy_each_beat_the_learners_linear_squared_error_rule()
    {
        var f = Run("linear-vs-deep").Result.Figures;
        Assert.True(f["deep_squared"] > f["linear_squared"], $"deep {f["deep_squared"]:P1} vs linear {f["linear_squared"]:P1} (squared error)");
        Assert.True(f["deep_crossentropy"] > f["linear_crossentropy"], $"deep {f["deep_crossentropy"]:P1} vs linear {f["linear_crossentropy"]:P1} (cross-entropy)");
        Assert.True(f["linear_crossentropy"] > f["linear_squared"]);
        Assert.InRange(f["linear_squared"], 0.6, 0.9); // the learner's 80 %, give or take
    }

    [Fact]
    public void Online_learns_most_per_epoch_and_mini_batches_are_cheapest_per_epoch()
    {
        var f = Run("batch-modes").Result.Figures;
        Assert.True(f["online_loss_after_2_epochs"] < f["mini-batch_loss_after_2_epochs"]);
        Assert.True(f["mini-batch_loss_after_2_epochs"] < f["full_loss_after_2_epochs"]);
        Assert.True(f["mini-batch_seconds_per_epoch"] < f["online_seconds_per_epoch"], "batch 1 pays per-step overhead 100 times as often");
    }

    [Fact]
    public void Random_and_bayesian_search_find_the_high_learning_rates_a_coarse_grid_misses()
    {
        var f = Run("tuning").Result.Figures;
        foreach (var method in new[] { "random", "bayes" })
        {
            Assert.True(f[method + "_best"] > 0.2, $"{method} best validation accuracy {f[method + "_best"]:P1}");
            Assert.True(f[method + "_best_log10_lr"] > -3.5, $"{method}'s best learning rate 10^{f[method + "_best_log10_lr"]:F1}");
        }
        // 10 grid points are only 4 learning rates, the highest 10^−2.5: both other methods beat it at this budget.
        Assert.True(f["bayes_best"] > f["grid_best"] && f["random_best"] > f["grid_best"], $"grid {f["grid_best"]:P1}, random {f["random_best"]:P1}, bayes {f["bayes_best"]:P1}");
    }

    [Fact]
    public void Index_shows_every_experiment_run_and_unknown_names_are_refused()
    {
        string root = TestPaths.NewTempDirectory();
        ExperimentCatalog.Run(ExperimentCatalog.Find("gates"), root, quick: true);
        ExperimentCatalog.Run(ExperimentCatalog.Find("activations"), root, quick: true);
        ExperimentCatalog.WriteIndex(root);
        string html = File.ReadAllText(Path.Combine(root, "index.html"));
        Assert.Contains("<img src=\"gates/gates.svg\"", html);
        Assert.Contains("activations/activations.svg", html);
        Assert.DoesNotContain("optimizers-2d", html);
        Assert.Throws<ArgumentException>(() => ExperimentCatalog.Find("nope"));
    }
}
