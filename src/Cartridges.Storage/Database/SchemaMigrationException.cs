// The one exception the migrator throws for problems an operator must fix (no stack trace needed to act on it).
namespace Cartridges.Storage.Database;

/// <summary>The schema could not be applied: server unreachable, a recorded script changed, or a script failed.</summary>
public sealed class SchemaMigrationException(string message, Exception? inner = null) : Exception(message, inner);
