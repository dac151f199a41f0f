"""Errors the sandbox raises while serving a call; api.py turns each into Fulfil's HTTP answer."""


class SandboxError(Exception):
    status = 400


class SandboxUserError(SandboxError):
    """A business rule said no: HTTP 400 with Fulfil's `{"type": "UserError", …}` body."""


class SandboxBadRequest(SandboxError):
    """The call itself is malformed (unknown field, bad arguments): HTTP 400, generic body."""


class SandboxNotFound(SandboxError):
    status = 404
