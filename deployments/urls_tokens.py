from django.urls import path

from tokens.standards import operations as ops

from . import apis_tokens as apis

urlpatterns = [
    path("tokens", apis.TokenListApi.as_view(), name="token-list"),
    path("tokens/<uuid:token_id>", apis.TokenDetailApi.as_view(), name="token-detail"),
    path("tokens/<uuid:token_id>/holders/<str:address>", apis.TokenHolderApi.as_view(), name="token-holder"),
    path("tokens/<uuid:token_id>/operations", apis.OperationListApi.as_view(), name="operation-list"),
    *[path(f"tokens/<uuid:token_id>/operations/{kind}", apis.operation_view(kind), name=f"operation-create-{kind}")
      for kind in ops.KINDS],
    path("tokens/<uuid:token_id>/operations/<uuid:operation_id>", apis.OperationDetailApi.as_view(),
         name="operation-detail"),
    path("tokens/<uuid:token_id>/operations/<uuid:operation_id>/cancel", apis.OperationCancelApi.as_view(),
         name="operation-cancel"),
    path("tokens/<uuid:token_id>/operations/<uuid:operation_id>/retry", apis.OperationRetryApi.as_view(),
         name="operation-retry"),
]
