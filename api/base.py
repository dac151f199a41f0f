"""What every API endpoint shares: authentication that bypasses the login redirect, role permissions,
one pagination style and one error shape.

DRF does its own authentication (token or session), so API views are exempt from Django's
LoginRequiredMiddleware, which would otherwise redirect a token client to the login page.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, pagination, permissions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.roles import has_role


class LoginNotRequiredMixin:
    """Mark the view as public to LoginRequiredMiddleware; DRF authenticates instead."""

    @classmethod
    def as_view(cls, *args, **kwargs):
        view = super().as_view(*args, **kwargs)
        view.login_required = False
        return view


class RolePermission(permissions.BasePermission):
    """The view's `roles` maps an action (list, retrieve, create, resolve…) to the roles allowed.

    `"*"` is the fallback for actions not named. Anonymous callers get 401 (the authenticators say
    how to log in), the wrong role 403.
    """

    message = "Your role does not allow this action."

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        if getattr(view, request.method.lower(), None) is None:
            return True  # a method the endpoint does not have: let DRF answer 405
        roles = roles_for(view)
        return bool(roles) and has_role(request.user, *roles)


def roles_for(view) -> tuple[str, ...]:
    action = getattr(view, "action", None) or request_method_action(view)
    table = getattr(view, "roles", {})
    return tuple(table.get(action, table.get("*", ())))


def request_method_action(view) -> str:
    return {"GET": "list", "HEAD": "list", "OPTIONS": "list"}.get(view.request.method, "write")


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _message(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_message(d) for d in detail)
    if isinstance(detail, dict):
        return " ".join(f"{k}: {_message(v)}" for k, v in detail.items())
    return str(detail)


def exception_handler(exc, context):
    """Every error, whatever raised it: `{"error": {"status", "code", "message", "fields"}}`."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django log it and answer 500
    fields = {}
    if isinstance(exc, exceptions.ValidationError):
        code = "invalid"
        if isinstance(exc.detail, dict):
            fields = {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in exc.detail.items()}
            message = "Some fields are not valid."
            if set(fields) == {"non_field_errors"}:
                message = " ".join(fields.pop("non_field_errors"))
        else:
            message = _message(exc.detail)
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
        message = _message(getattr(exc, "detail", str(exc)))
    response.data = {
        "error": {"status": response.status_code, "code": code, "message": message, "fields": fields}
    }
    return response


def error_response(*, status_code: int, code: str, message: str) -> Response:
    return Response(
        {"error": {"status": status_code, "code": code, "message": message, "fields": {}}}, status=status_code
    )


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message", "fields"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}
ERROR_RESPONSES = {
    "400": "The request is not valid; `fields` says which input is wrong.",
    "401": "No valid token or session.",
    "403": "Your role does not allow this action.",
    "404": "No such record (or page).",
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: document the error shape on every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
    return result


__all__ = ["Pagination", "RolePermission", "error_response", "exception_handler", "status"]
