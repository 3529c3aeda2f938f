"""Bearer-token authentication for API clients (API.md, Conventions)."""

from __future__ import annotations

import hashlib
import secrets

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from oms.core.models import ApiClient

TOKEN_PREFIX = "oms_"
_REQUEST_CACHE_ATTR = "_oms_api_client"


def hash_token(token: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def bearer_token(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def client_for_request(request: HttpRequest) -> ApiClient | None:
    """The active client named by the request's bearer token, looked up once per request."""
    if hasattr(request, _REQUEST_CACHE_ATTR):
        return getattr(request, _REQUEST_CACHE_ATTR)
    token = bearer_token(request)
    client = None
    if token:
        client = ApiClient.objects.filter(token_hash=hash_token(token), is_active=True).first()
    setattr(request, _REQUEST_CACHE_ATTR, client)
    return client


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[ApiClient, str] | None:
        if not request.META.get("HTTP_AUTHORIZATION"):
            return None
        client = client_for_request(request._request)
        if client is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        return client, bearer_token(request._request) or ""

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
