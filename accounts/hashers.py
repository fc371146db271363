"""Argon2id with parameters sized for the machine (login p50 <= 150 ms; docs/decisions/0002-argon2-parameters.md).

Django's defaults (100 MiB, t=2, p=8) cost ~180 ms per verify on 2 cores. The defaults here
(64 MiB, t=2, p=2, ~100 ms) stay well above OWASP's minimum (19 MiB, t=2, p=1); stored hashes with
other parameters still verify and are re-hashed on the next successful login (`must_update`).
"""
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class TunedArgon2PasswordHasher(Argon2PasswordHasher):
    @property
    def time_cost(self) -> int:  # type: ignore[override]
        return settings.ARGON2_TIME_COST

    @property
    def memory_cost(self) -> int:  # type: ignore[override]
        return settings.ARGON2_MEMORY_KIB

    @property
    def parallelism(self) -> int:  # type: ignore[override]
        return settings.ARGON2_PARALLELISM
