"""The published map: one self-contained HTML file (:mod:`.build`), its elements, layers,
popups and styles, the offline asset inlining, and ``lvdun map`` (:mod:`.cli`)."""
