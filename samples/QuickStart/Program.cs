// A program that uses ZeroDL the way any .NET project would, through its NuGet package: train the book's
// TwoLayerNet on MNIST, save it, load it back and predict.
using ZeroDL.Data;
using ZeroDL.Models;
using ZeroDL.Optimizers;
using ZeroDL.Serialization;
using ZeroDL.Training;

string mnist = args.Length > 0 ? args[0] : Mnist.DefaultDirectory();
string modelPath = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "quickstart.safetensors");

var (train, test) = Mnist.Load(directory: mnist);
var net = Networks.TwoLayerNet<float>(inputSize: 784, hiddenSize: 50, outputSize: 10, seed: 1);
var trainer = new Trainer(net, new Sgd<float>(0.1), train, test, new TrainerOptions { Epochs = 2 });
trainer.EpochCompleted += e => Console.WriteLine($"epoch {e.Epoch}: train {e.TrainAccuracy:P2}, test {e.TestAccuracy:P2}");
trainer.Train();

ModelFile.Save(net, modelPath);
var loaded = ModelFile.Load(modelPath).Network;
int[] predicted = loaded.PredictLabels(test.Images);
Console.WriteLine($"first ten test images: predicted {string.Join(" ", predicted[..10])}, labels {string.Join(" ", test.Labels[..10].ToArray())}");

// The loaded model must be the trained one: the same accuracy to the image.
double trained = net.Accuracy(test.Images, test.Labels), reloaded = loaded.Accuracy(test.Images, test.Labels);
Console.WriteLine($"test accuracy {reloaded:P2} after loading {modelPath}");
return trained == reloaded ? 0 : 1;
