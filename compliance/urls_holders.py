"""The holder registry under /api/v1/tokens/{token_id}/ (compliance/apis_holders.py)."""
from django.urls import path

from . import apis_holder_sync, apis_holders_import
from . import apis_holders as apis

urlpatterns = [
    path("tokens/<uuid:token_id>/allowlist", apis.AllowListApi.as_view(), name="allowlist-list"),
    path("tokens/<uuid:token_id>/allowlist/bulk", apis.AllowListBulkApi.as_view(), name="allowlist-bulk"),
    path("tokens/<uuid:token_id>/allowlist/export", apis.AllowListExportApi.as_view(), name="allowlist-export"),
    path("tokens/<uuid:token_id>/allowlist/import", apis_holders_import.AllowListImportApi.as_view(),
         name="allowlist-import"),
    path("tokens/<uuid:token_id>/allowlist/drift", apis_holder_sync.AllowListDriftApi.as_view(),
         name="allowlist-drift"),
    path("tokens/<uuid:token_id>/allowlist/resync", apis_holder_sync.AllowListResyncApi.as_view(),
         name="allowlist-resync"),
    path("tokens/<uuid:token_id>/allowlist/<uuid:entry_id>", apis.AllowListEntryApi.as_view(),
         name="allowlist-entry"),
    path("tokens/<uuid:token_id>/jurisdiction-rules", apis.JurisdictionRulesApi.as_view(), name="jurisdiction-rules"),
    path("tokens/<uuid:token_id>/transfers/validate", apis.TransferValidateApi.as_view(), name="transfer-validate"),
]
