from django.urls import path

from . import apis

urlpatterns = [
    path("networks", apis.NetworkListApi.as_view(), name="network-list"),
]
