"""``archiver serve``: the researchers' web view over the catalog (Flask, server-rendered).
Imported only when ``serve`` runs, so other commands start without Flask."""
