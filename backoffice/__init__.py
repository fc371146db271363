"""The staff back office on top of every app: the admin site with its dashboard and the support
correlation-ID search (docs/back-office.md). The top layer of the import rules: it reads every app
through its selectors; no app imports it."""
