"""URLs used only by the core tests: views that fail on purpose."""
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class BoomApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get(self, request):
        raise RuntimeError("secret internals: do not leak this")


class EchoApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        amount = serializers.IntegerField(min_value=1)

    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(data.validated_data)


def plain_boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("plain view failure: do not leak this")


urlpatterns = [
    path("api/test/boom", BoomApi.as_view()),
    path("api/test/echo", EchoApi.as_view()),
    path("api/test/plain-boom", plain_boom),
    path("", include("biatec.urls")),
]
handler404 = "biatec.core.views.not_found"
handler500 = "biatec.core.views.internal_error"
