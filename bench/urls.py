"""The benchmark's URL conf: the product's routes plus the bare baseline of issue 13 item 1 (a Django
JSON view doing one primary-key query), served by the same server and middleware."""
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from deployments.models import Deployment


def bare_view(request: HttpRequest, pk: str) -> JsonResponse:
    row = Deployment.objects.filter(pk=pk).values("id", "status").first()
    if row is None:
        return JsonResponse({"code": "NOT_FOUND"}, status=404)
    return JsonResponse({"id": str(row["id"]), "status": row["status"]})


urlpatterns = [path("bench/bare/<uuid:pk>", bare_view), path("", include("biatec.urls"))]
