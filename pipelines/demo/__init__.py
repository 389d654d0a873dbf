"""Demo: synthetic inputs (:mod:`.data`, :mod:`.shapes`) and the whole pipeline on them
(:mod:`.run`)."""
