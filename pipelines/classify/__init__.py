"""Classify: the job (:mod:`.job`), the engines it runs on (:mod:`.engines`), and the
classification of in-memory frames both share (:mod:`.frames`)."""
