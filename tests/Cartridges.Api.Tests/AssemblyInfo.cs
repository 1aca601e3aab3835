// One silo host serves every test class (see ApiHost); its CPU engine is shared, so classes run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
