from django.urls import path

from . import apis

urlpatterns = [
    path("deployments", apis.SupportDeploymentLookupApi.as_view(), name="support-deployments"),
]
