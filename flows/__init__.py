"""voc flows: the Prefect flows (ingest, topics, weekly, urgent, notify, the pipeline and its
schedule), the `voc` CLI that runs them (cli/), ingest's parts (intake/), the settings and the
sample company (sample_company/)."""
