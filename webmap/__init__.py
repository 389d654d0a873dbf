"""Publishing: the self-contained offline HTML map (and, later, the web app)."""
