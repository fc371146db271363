"""A URL conf for test_json_errors: the project's URLs plus two plain (non-DRF) Django views under
/api/, one that raises and one that CSRF refuses, to reach Django's own HTML error pages."""
from django.http import HttpRequest, HttpResponse
from django.urls import path

from biatec.urls import urlpatterns as project


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("an error outside any DRF view")


def form(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [path("api/plain/boom", boom), path("api/plain/form", form), *project]
