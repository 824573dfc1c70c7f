"""A crawl job as operators see it, beyond its catalog row: the selection that resumes it
(selection.py) and whether it is running, finished or can be resumed (state.py)."""
