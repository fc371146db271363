from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Cross-cutting pieces: base model, errors, correlation IDs, logging, health."""

    name = "biatec.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from .runtime_limits import restore_recursion_limit

        # py_ecc (web3, eth-account) raises the recursion limit to 100000 on import: put it back.
        restore_recursion_limit()
