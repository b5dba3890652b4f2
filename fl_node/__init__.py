"""fl_node: the silo side of fedsettle (data, local torch training, the node daemon, the CLI)."""
