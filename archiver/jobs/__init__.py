"""A crawl job as operators see it, beyond its catalog row: the selection that resumes it
(selection.py), whether it is running, finished or can be resumed (state.py), and the
store its WARC files go to (stores.py)."""
