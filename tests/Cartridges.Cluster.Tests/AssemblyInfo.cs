// Every silo in a test process shares one CPU device thread; clusters running side by side would only slow each
// other down and blur the batching figures, so the cluster tests run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
