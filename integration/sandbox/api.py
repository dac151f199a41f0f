"""The sandbox's HTTP face: Fulfil REST v2 under /sandbox/fulfil/api/v2/.

Public in Django's sense (no session login; machines call it) but every request needs the sandbox
API key, as `X-API-KEY` or `Authorization: Bearer`, exactly as Fulfil does; 401 otherwise.
"""

from __future__ import annotations

import logging
import random
import time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from integration.fulfil import encoding
from integration.sandbox.errors import SandboxBadRequest, SandboxError, SandboxNotFound, SandboxUserError
from integration.sandbox.methods import READ_METHODS, dispatch
from integration.sandbox.models import SandboxFaults
from integration.sandbox.store import Env

logger = logging.getLogger("integration.sandbox")

RATE_LIMIT_BODY = {
    "code": 429,
    "name": "Too Many Requests",
    "description": "This user has exceeded an allotted request count. Try again later.",
}
GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
INPROCESS_HEADER = "X-Sandbox-Inprocess"
SIMULATE_HEADER = "X-Sandbox-Simulate"

# One deterministic random stream per (seed, knob version): a test that sets its seed gets the same
# sequence of faults every run, and changing a knob restarts the stream.
_rng: dict[str, Any] = {"key": None, "rng": random.Random(0)}


def _random(faults: SandboxFaults) -> random.Random:
    key = (faults.seed, faults.updated_at)
    if _rng["key"] != key:
        _rng["key"], _rng["rng"] = key, random.Random(faults.seed)
    return _rng["rng"]


def _json(payload: Any, status: int = 200, headers: dict | None = None) -> HttpResponse:
    body = encoding.dumps(payload, components=True)
    response = HttpResponse(body, status=status, content_type="application/json")
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def _error(exc: SandboxError) -> HttpResponse:
    if isinstance(exc, SandboxUserError):
        return _json({"type": "UserError", "message": str(exc), "code": "UserError", "description": ""}, 400)
    if isinstance(exc, SandboxNotFound):
        return _json({"code": 404, "name": "Not Found", "description": str(exc)}, 404)
    return _json({"code": 400, "name": "Bad Request", "description": str(exc)}, 400)


def _authorized(request: HttpRequest) -> bool:
    key = settings.FULFIL_SANDBOX_API_KEY
    given = request.headers.get("X-API-KEY", "")
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        given = given or auth[7:].strip()
    return bool(key) and given == key


def _seconds_text(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral_value() else str(value.normalize())


def _context(request: HttpRequest) -> dict:
    raw = request.GET.get("context")
    if not raw:
        return {}
    try:
        context = encoding.loads(raw)
    except ValueError as exc:
        raise SandboxBadRequest("context must be a JSON object") from exc
    if not isinstance(context, dict):
        raise SandboxBadRequest("context must be a JSON object")
    return context


def _body(request: HttpRequest) -> Any:
    if not request.body:
        return []
    try:
        return encoding.loads(request.body)
    except ValueError as exc:
        raise SandboxBadRequest("The body is not valid JSON") from exc


def _serve(request: HttpRequest, model: str, method: str, run, *, writes: bool) -> HttpResponse:
    """Auth, fault injection, one transaction per call, Fulfil's error bodies."""
    if not settings.FULFIL_SANDBOX_ENABLED:
        # A production deployment must never answer as if it were Fulfil.
        return HttpResponse(status=404)
    if not _authorized(request):
        return _json({"code": 401, "name": "Unauthorized", "description": "Invalid API key or token."}, 401)
    faults = SandboxFaults.objects.filter(pk=1).first() or SandboxFaults()
    rng = _random(faults)
    throttle, crash, hang = rng.random(), rng.random(), rng.random()
    if faults.latency_ms:
        time.sleep(faults.latency_ms / 1000)
    if throttle < faults.rate_limit_share:
        return _json(RATE_LIMIT_BODY, 429, {"Retry-After": _seconds_text(faults.retry_after_seconds)})
    if crash < faults.server_error_share:
        return HttpResponse(GATEWAY_PAGE, status=502, content_type="text/html")
    try:
        env = Env(_context(request), faults)
        with transaction.atomic():
            result = run(env)
    except SandboxError as exc:
        return _error(exc)
    response = _json(result)
    if writes and hang < faults.commit_timeout_share:
        # The write is committed; now the answer never arrives in time.
        logger.info("sandbox fault: committed %s.%s then timed out", model, method)
        if request.headers.get(INPROCESS_HEADER):
            response[SIMULATE_HEADER] = "read-timeout"
        else:
            time.sleep(settings.FULFIL_SANDBOX_HANG_SECONDS)
    return response


# --- RPC ----------------------------------------------------------------------------------------------


@csrf_exempt
@login_not_required
def model_method(request: HttpRequest, model: str, segment: str) -> HttpResponse:
    """`PUT|POST /model/{model}/{method}` (RPC), or the REST routes on `/model/{model}/{id}`."""
    if segment.isdigit():
        return record(request, model, int(segment))
    if request.method not in ("PUT", "POST"):
        return _json({"code": 405, "name": "Method Not Allowed", "description": "Use PUT"}, 405)

    def run(env: Env):
        return dispatch(env, model, segment, _body(request))

    return _serve(request, model, segment, run, writes=segment not in READ_METHODS)


@csrf_exempt
@login_not_required
def instance_method(request: HttpRequest, model: str, rid: int, method: str) -> HttpResponse:
    """`PUT /model/{model}/{id}/{method}` — the PHP client's instance call: the id list goes first."""

    def run(env: Env):
        args = _body(request)
        return dispatch(env, model, method, [[rid], *(args if isinstance(args, list) else [args])])

    return _serve(request, model, method, run, writes=method not in READ_METHODS)


# --- REST-style ------------------------------------------------------------------------------------


def _fields_param(request: HttpRequest) -> list[str] | None:
    fields = request.GET.getlist("field")
    for chunk in request.GET.getlist("fields"):
        fields.extend(f for f in chunk.split(",") if f)
    return fields or None


def _json_param(request: HttpRequest, name: str, default: Any) -> Any:
    raw = request.GET.get(name)
    if not raw:
        return default
    try:
        return encoding.loads(raw)
    except ValueError as exc:
        raise SandboxBadRequest(f"{name} must be JSON") from exc


@csrf_exempt
@login_not_required
def collection(request: HttpRequest, model: str) -> HttpResponse:
    """`GET /model/{m}?filter=…&page=…&per_page=…&field=…` to find; `POST /model/{m}` to create."""
    if request.method == "POST":

        def create(env: Env):
            body = _body(request)
            ids = env.create(model, body if isinstance(body, list) else [body])
            return env.read(model, ids, ["rec_name"])

        return _serve(request, model, "create", create, writes=True)

    def find(env: Env):
        fields = ["rec_name", *(_fields_param(request) or [])]
        if request.GET.get("ids"):
            ids = [int(i) for i in request.GET["ids"].split(",") if i.strip()]
            return env.read(model, ids, fields)
        per_page = int(request.GET.get("per_page", 10))
        page = max(1, int(request.GET.get("page", 1)))
        domain = _json_param(request, "filter", [])
        order = _json_param(request, "order", None)
        ids = env.search(model, domain, (page - 1) * per_page, per_page, order)
        return env.read(model, ids, fields)

    return _serve(request, model, "find", find, writes=False)


def record(request: HttpRequest, model: str, rid: int) -> HttpResponse:
    if request.method == "GET":

        def get(env: Env):
            _require(env, model, rid)
            # Reports disagree on whether v2 returns every field by default; returning only id and
            # rec_name unless `fields` is given makes a client that forgets `fields` fail here, not in prod.
            return env.read(model, [rid], ["rec_name", *(_fields_param(request) or [])])[0]

        return _serve(request, model, "read", get, writes=False)
    if request.method in ("PUT", "POST"):

        def update(env: Env):
            _require(env, model, rid)
            env.write(model, [rid], _body(request))
            return env.read(model, [rid], ["rec_name"])[0]

        return _serve(request, model, "write", update, writes=True)
    if request.method == "DELETE":

        def remove(env: Env):
            _require(env, model, rid)
            env.delete(model, [rid])

        return _serve(request, model, "delete", remove, writes=True)
    return _json({"code": 405, "name": "Method Not Allowed", "description": request.method}, 405)


def _exists(env: Env, model: str, rid: int) -> bool:
    from integration.sandbox.models import SandboxRecord

    env.model(model)
    return SandboxRecord.objects.filter(model=model, pk=rid).exists()


def _require(env: Env, model: str, rid: int) -> None:
    if not _exists(env, model, rid):
        raise SandboxNotFound(f"{model},{rid} not found")


@csrf_exempt
@login_not_required
def report(request: HttpRequest, name: str) -> HttpResponse:
    def run(env: Env):
        body = _body(request)
        objects = body.get("objects", []) if isinstance(body, dict) else []
        suffix = "-".join(str(i) for i in objects) or "all"
        return {
            "filename": f"{name}-{suffix}.pdf",
            "mimetype": "application/pdf",
            "url": f"{request.build_absolute_uri('/')}sandbox/fulfil/reports/{name}-{suffix}.pdf",
        }

    return _serve(request, "report", name, run, writes=False)


@csrf_exempt
@login_not_required
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    if not settings.FULFIL_SANDBOX_ENABLED:
        return HttpResponse(status=404)
    return _json({"code": 404, "name": "Not Found", "description": "The requested URL was not found."}, 404)
