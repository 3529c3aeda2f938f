from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oms.core.api.base import (
    ErrorSerializer,
    PageQuery,
    client_of,
    validated,
    validated_query,
)
from oms.core.api.pagination import paginated
from oms.core.api.schema import page_of
from oms.core.models import ClientKind, WebhookSubscription
from oms.core.outbound import OutboundUrlField
from oms.core.permissions import allow_kinds
from oms.core.webhooks.services import webhook_subscription_create, webhook_subscription_delete


class SubscriptionIn(serializers.Serializer):
    url = OutboundUrlField(max_length=500)
    topics = serializers.ListField(child=serializers.CharField(max_length=100), max_length=100,
                                   allow_empty=False)


class SubscriptionOut(serializers.ModelSerializer):
    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "topics", "is_active", "created_at"]


class SubscriptionCreatedOut(SubscriptionOut):
    class Meta(SubscriptionOut.Meta):
        fields = [*SubscriptionOut.Meta.fields, "secret"]


class WebhookSubscriptionsView(APIView):
    permission_classes = [allow_kinds(ClientKind.STAFF)]

    @extend_schema(request=SubscriptionIn, responses={201: SubscriptionCreatedOut,
                                                      400: ErrorSerializer})
    def post(self, request: Request) -> Response:
        data = validated(SubscriptionIn, request.data)
        subscription = webhook_subscription_create(owner=client_of(request), **data)
        return Response(SubscriptionCreatedOut(subscription).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[PageQuery], responses={200: page_of(SubscriptionOut)})
    def get(self, request: Request) -> Response:
        validated_query(request, PageQuery)
        subscriptions = WebhookSubscription.objects.filter(owner=client_of(request))
        return paginated(request, self, subscriptions, SubscriptionOut)


class WebhookSubscriptionDetailView(APIView):
    permission_classes = [allow_kinds(ClientKind.STAFF)]

    @extend_schema(request=None, responses={204: None, 404: ErrorSerializer})
    def delete(self, request: Request, pk: int) -> Response:
        validated_query(request)  # it takes no query parameters
        subscription = get_object_or_404(WebhookSubscription, pk=pk, owner=client_of(request))
        webhook_subscription_delete(subscription=subscription)
        return Response(status=status.HTTP_204_NO_CONTENT)
