"""The web app behind ``lvdun serve``: the FastAPI app (:mod:`.factory`), its API, tiles,
catalog and per-process context, settings, and the ``serve`` command."""
