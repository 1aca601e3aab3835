// What one SchemaMigrator run did.
namespace Cartridges.Storage.Database;

/// <summary>The scripts a migration applied now and those it found already applied (both in order).</summary>
public sealed record MigrationResult(IReadOnlyList<string> Applied, IReadOnlyList<string> AlreadyApplied, bool DatabaseCreated)
{
    /// <summary>True when the database was already up to date.</summary>
    public bool NothingToDo => Applied.Count == 0 && !DatabaseCreated;
}
