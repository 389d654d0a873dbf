"""The jobs (ingest, classify, verify, export, report, demo), the store and the CLI."""
