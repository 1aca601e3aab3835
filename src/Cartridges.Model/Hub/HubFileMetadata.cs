namespace Cartridges.Model.Hub;

/// <summary>What the hub says about one file: the commit it resolved to, its etag (= blob name) and size.</summary>
sealed record HubFileMetadata(string Commit, string Etag, long? Size);
