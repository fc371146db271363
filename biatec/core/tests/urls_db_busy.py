"""URLs of the database-busy tests: views (DRF and plain) and a middleware that hit a lock timeout."""
from django.contrib.auth.models import Group
from django.db import OperationalError, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

LOCKED = "database is locked"


class LockedApi(APIView):
    """Writes, then fails on the lock inside the same transaction (as SQLite does after its timeout)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    def post(self, request):
        with transaction.atomic():
            Group.objects.create(name=request.data["name"])
            raise OperationalError(LOCKED)

    def get(self, request):
        return Response({"ok": True})


def plain_locked(request: HttpRequest) -> HttpResponse:
    with transaction.atomic():
        Group.objects.create(name=request.GET["name"])
        raise OperationalError(LOCKED)


def plain_other_error(request: HttpRequest) -> HttpResponse:
    raise OperationalError("no such table: nothing_here")


class LockedMiddleware:
    """Fails on the lock outside any view, as a middleware writing after the view would."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.endswith("/middleware-locked"):
            raise OperationalError(LOCKED)
        return response


urlpatterns = [
    path("api/test/locked", LockedApi.as_view()),
    path("api/test/middleware-locked", LockedApi.as_view()),
    path("api/test/plain-locked", plain_locked),
    path("api/test/plain-other-error", plain_other_error),
]
handler404 = "biatec.core.views.not_found"
handler500 = "biatec.core.views.internal_error"
