"""Ingest: layer files (:mod:`.files`), change rasters (:mod:`.rasters`), lead identity
across monitoring rounds (:mod:`.identity`)."""
