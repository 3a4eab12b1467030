"""voc flows: ingest, topics, weekly review, and the CLI that runs them."""
