from django.urls import path

from . import apis

urlpatterns = [
    path("addresses", apis.AddressesApi.as_view(), name="account-addresses"),
    path("organizations/<uuid:organization_id>", apis.OrganizationDetailApi.as_view(), name="account-organization"),
]
