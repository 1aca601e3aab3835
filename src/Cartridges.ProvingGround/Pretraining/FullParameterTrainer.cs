// Full-parameter next-token training of a TransformerModel through the runtime's own forward pass: the
// model's weight tensors are made leaf tensors that require gradients, so training and serving run the same
// code. Loss = Σ w_t · (−log p(x_t | x_<t)) / Σ w_t over the batch, logits computed only where w_t > 0.
using Cartridges.Model.Scoring;
using Cartridges.Model.Transformer;
using static TorchSharp.torch;

namespace Cartridges.ProvingGround.Pretraining;

/// <summary>Trains every weight of a model with AdamW.</summary>
public sealed class FullParameterTrainer : IDisposable
{
    readonly TransformerModel _model;
    readonly PretrainRecipe _recipe;
    readonly List<Tensor> _parameters;

    /// <summary>Wraps a model (its tensors become trainable) and creates the optimizer.</summary>
    public FullParameterTrainer(TransformerModel model, PretrainRecipe recipe)
    {
        _model = model;
        _recipe = recipe;
        _parameters = model.NamedTensors().Select(kv => kv.Value).ToList();
        foreach (var p in _parameters) p.requires_grad = true;
        Optimizer = new AdamW(_parameters);
    }

    /// <summary>The optimizer (its state goes into checkpoints).</summary>
    public AdamW Optimizer { get; }

    /// <summary>One optimizer step on a batch; returns the weighted loss and the gradient norm.</summary>
    public (double Loss, double GradNorm) Step(IReadOnlyList<TrainingSequence> batch, int step)
    {
        double loss;
        using (var scope = NewDisposeScope())
        {
            var l = Loss(batch);
            l.backward();
            loss = l.item<float>();
        }
        var norm = Optimizer.Update(_recipe.LearningRateAt(step), _recipe.WeightDecay, _recipe.GradClip);
        return (loss, norm);
    }

    /// <summary>The weighted next-token loss of a batch (a scalar that keeps its graph).</summary>
    public Tensor Loss(IReadOnlyList<TrainingSequence> batch)
    {
        var (tokens, targets, weights, positions) = Pack(batch);
        var hidden = _model.Forward(new ForwardBatch { Tokens = tokens });
        var logp = LogitRows.OfHidden(_model, hidden).Select(positions).log_softmax(-1);
        var nll = -logp.gather(1, targets.unsqueeze(1)).squeeze(1);
        return (nll * weights).sum() / weights.sum();
    }

    (Tensor Tokens, Tensor Targets, Tensor Weights, long[] Positions) Pack(IReadOnlyList<TrainingSequence> batch)
    {
        var t = batch.Max(s => s.Length);
        var ids = new long[batch.Count * t];
        var positions = new List<long>();
        var targets = new List<long>();
        var weights = new List<float>();
        for (var b = 0; b < batch.Count; b++)
        {
            var s = batch[b];
            for (var i = 0; i < s.Length; i++) ids[b * t + i] = s.Tokens[i];
            // Padding repeats the last token; causal attention keeps it from touching real positions.
            for (var i = s.Length; i < t; i++) ids[b * t + i] = s.Tokens[^1];
            for (var i = 0; i + 1 < s.Length; i++)
            {
                if (s.Weights[i + 1] <= 0) continue;
                positions.Add(b * t + i);
                targets.Add(s.Tokens[i + 1]);
                weights.Add(s.Weights[i + 1]);
            }
        }
        var device = _model.Device;
        return (tensor(ids, device: device).view(batch.Count, t), tensor(targets.ToArray(), device: device),
            tensor(weights.ToArray(), device: device), positions.ToArray());
    }

    /// <inheritdoc />
    public void Dispose() => Optimizer.Dispose();
}
