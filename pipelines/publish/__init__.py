"""Publish: per-reserve exports and the ledger format (:mod:`.export`), field packets,
chips, reports, what changed since a run, and the leads view they all read."""
