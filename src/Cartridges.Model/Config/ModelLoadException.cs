namespace Cartridges.Model.Config;

/// <summary>A model directory, checkpoint or tokenizer could not be loaded; the message names the problem.</summary>
public sealed class ModelLoadException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelLoadException(string message, Exception? inner = null) : base(message, inner) { }
}
