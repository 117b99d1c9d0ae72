"""The thin HTTP layer: CodeArtifact's rest-json wire protocol, driven by botocore's service model.

Routes (method + URI), where each parameter lives (query string, header, body, payload), the
shape constraints checked before the backend runs (required, enum, length, range, pattern) and
the error shapes all come from the ``codeartifact`` model that ships with botocore. No rule about
CodeArtifact itself lives here: that is the backend's job.

Besides ``/v1/...`` the server hands the admin path ``/_emulator/...`` (not signed, not counted,
never faulted) to emulator/admin.py: seeding, fault injection, deny rules, counters, test hooks.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional
from urllib.parse import parse_qs, urlsplit

import botocore.session
import yaml
from botocore import xform_name
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.model import ListShape, MapShape, OperationModel, Shape

from . import admin, rules
from .backend import Backend, Caller
from .errors import (
    InternalServerException,
    InvalidSignatureException,
    ServiceError,
    ThrottlingException,
    UnrecognizedClientException,
    ValidationException,
)
from .faults import Counters, FaultConfig, Faults

STATUS_WRITES = frozenset({"UpdatePackageVersionsStatus", "DisposePackageVersions"})

ADMIN_PREFIX = admin.ADMIN_PREFIX
_AUTH_RE = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<signed>[^,]+),\s*Signature=(?P<sig>[0-9a-f]{64})")
# Shape-level patterns the model states that Python's `re` cannot express (\p{..}) are skipped;
# the domain pattern is the backend's (it also accepts `_`, see rules.DOMAIN_RE).
_SKIP_PATTERN_SHAPES = {"DomainName"}


def _service_model() -> Any:
    return botocore.session.get_session().get_service_model("codeartifact")


class Router:
    """(method, path) -> operation, from the service model."""

    def __init__(self) -> None:
        self.model = _service_model()
        self.routes: dict[tuple[str, str], OperationModel] = {}
        for name in self.model.operation_names:
            op = self.model.operation_model(name)
            path = op.http["requestUri"].split("?")[0]
            self.routes[(op.http["method"].upper(), path)] = op

    def find(self, method: str, path: str) -> Optional[OperationModel]:
        return self.routes.get((method, path))


def _constraint_error(member: str, value: Any, constraint: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}")


def validate(shape: Shape, value: Any, member: str) -> None:
    """The model's constraints (enum, min/max, pattern) on one value; recursive for lists/maps."""
    meta = shape.metadata
    if shape.type_name == "string":
        if not isinstance(value, str):
            raise _constraint_error(member, value, "Member must be a string")
        enum = meta.get("enum")
        if enum and value not in enum:
            raise _constraint_error(member, value, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        if "min" in meta and len(value) < meta["min"]:
            raise _constraint_error(member, value, f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            raise _constraint_error(member, value, f"Member must have length less than or equal to {meta['max']}")
        pattern = meta.get("pattern")
        if pattern and "\\p" not in pattern and "\\P" not in pattern and shape.name not in _SKIP_PATTERN_SHAPES:
            if not re.fullmatch(pattern, value):
                raise _constraint_error(member, value, f"Member must satisfy regular expression pattern: {pattern}")
    elif shape.type_name in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise _constraint_error(member, value, "Member must be a number")
        if "min" in meta and value < meta["min"]:
            raise _constraint_error(member, value, f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            raise _constraint_error(member, value, f"Member must have value less than or equal to {meta['max']}")
    elif shape.type_name == "list":
        if not isinstance(value, list):
            raise _constraint_error(member, value, "Member must be a list")
        if "min" in meta and len(value) < meta["min"]:
            raise _constraint_error(member, value, f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            raise _constraint_error(member, "[...]", f"Member must have length less than or equal to {meta['max']}")
        assert isinstance(shape, ListShape)
        for item in value:
            validate(shape.member, item, member)
    elif shape.type_name == "map":
        if not isinstance(value, dict):
            raise _constraint_error(member, value, "Member must be a map")
        assert isinstance(shape, MapShape)
        for k, v in value.items():
            validate(shape.key, k, member)
            validate(shape.value, v, member)
    elif shape.type_name == "boolean" and not isinstance(value, bool):
        raise _constraint_error(member, value, "Member must be a boolean")


def _from_text(shape: Shape, text: str, member: str) -> Any:
    if shape.type_name in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise _constraint_error(member, text, "Member must be a number") from None
    if shape.type_name == "boolean":
        if text.lower() not in ("true", "false"):
            raise _constraint_error(member, text, "Member must be a boolean")
        return text.lower() == "true"
    return text


def parse_params(op: OperationModel, query: dict[str, list[str]], headers: Any, body: bytes) -> dict[str, Any]:
    """Request -> {memberName: value}, using each member's location in the model."""
    shape = op.input_shape
    if shape is None:
        return {}
    payload = shape.serialization.get("payload")
    doc: dict[str, Any] = {}
    if not payload and body:
        try:
            doc = json.loads(body)
        except ValueError:
            raise ValidationException("Could not parse the request body as JSON.", "CANNOT_PARSE") from None
        if not isinstance(doc, dict):
            raise ValidationException("The request body must be a JSON object.", "CANNOT_PARSE")
    params: dict[str, Any] = {}
    for name, member in shape.members.items():
        loc = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if name == payload:
            params[name] = body
            continue
        if loc == "querystring":
            values = query.get(wire)
            if values is None:
                continue
            params[name] = ([_from_text(member.member, v, name) for v in values] if isinstance(member, ListShape)
                            else _from_text(member, values[-1], name))
        elif loc == "header":
            if headers.get(wire) is not None:
                params[name] = _from_text(member, headers.get(wire), name)
        elif name in doc and doc[name] is not None:
            params[name] = doc[name]
    for name in shape.required_members:
        if name not in params:
            raise ValidationException(
                f"1 validation error detected: Value null at '{name}' failed to satisfy constraint: "
                "Member must not be null")
    for name, value in params.items():
        if name != payload:
            validate(shape.members[name], value, name)
    return params


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot serialize {type(value).__name__}")


class Signatures:
    """SigV4 checking. Every API request must carry a well-formed SigV4 Authorization header for
    the codeartifact service. When ``credentials`` maps an access key to its secret key, the
    signature of requests using that key is also verified; keys not listed are accepted as long
    as the request is signed, unless ``strict`` (then unknown keys are refused)."""

    def __init__(self, credentials: Optional[dict[str, str]] = None, strict: bool = False) -> None:
        self.credentials = dict(credentials or {})
        self.strict = strict

    def check(self, method: str, raw_path: str, headers: Any, body: bytes) -> Caller:
        auth = headers.get("Authorization")
        if not auth:
            raise UnrecognizedClientException("Missing Authentication Token: the request must be signed with "
                                              "AWS Signature Version 4.")
        m = _AUTH_RE.match(auth)
        if not m or m["service"] != "codeartifact" or not headers.get("X-Amz-Date"):
            raise InvalidSignatureException("The request signature is malformed or not for the codeartifact "
                                            "service.")
        key = m["key"]
        secret = self.credentials.get(key)
        if secret is None and self.strict:
            raise UnrecognizedClientException("The security token included in the request is invalid.")
        if secret is not None:
            signed = m["signed"].split(";")
            req = AWSRequest(method=method, url=f"http://{headers.get('Host')}{raw_path}", data=body,
                             headers={h: headers.get(h, "") for h in signed})
            req.context["timestamp"] = headers.get("X-Amz-Date")
            signer = SigV4Auth(Credentials(key, secret, headers.get("X-Amz-Security-Token")), "codeartifact",
                               m["region"])
            canonical = signer.canonical_request(req)
            expected = signer.signature(signer.string_to_sign(req, canonical), req)
            if not hmac.compare_digest(expected, m["sig"]):
                raise InvalidSignatureException(
                    "The request signature we calculated does not match the signature you provided.")
        return Caller(account="", region=m["region"], access_key=key)


class Emulator:
    """Ties backend, router, signatures, faults and counters together behind one HTTP server."""

    def __init__(self, backend: Backend, faults: Optional[Faults] = None,
                 signatures: Optional[Signatures] = None) -> None:
        self.backend = backend
        self.router = Router()
        self.faults = faults or Faults()
        self.signatures = signatures or Signatures()
        self.counters = Counters()
        self.httpd: Optional[ThreadingHTTPServer] = None
        self.triggers = admin.Triggers()  # one-shot test hooks (admin.py)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
        emulator = self

        class Handler(_Handler):
            app = emulator

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        return self.httpd

    @property
    def url(self) -> str:
        assert self.httpd is not None
        host, port = self.httpd.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    app: Emulator
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    server_version = "CodeArtifactEmulator/1.0"
    disable_nagle_algorithm = True  # TCP_NODELAY: a small response is never held back
    # Buffered writes: headers and body leave in one send (flushed per response); two sends on a
    # keep-alive connection would make the client's delayed ACK hold each response by ~40 ms.
    wbufsize = 1 << 16

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the tests read counters
        pass

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status: int, doc: Any, headers: Optional[dict[str, str]] = None) -> None:
        data = json.dumps(doc, default=_json_default).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", f"emu-{time.monotonic_ns()}")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_bytes(self, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", f"emu-{time.monotonic_ns()}")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_error(self, err: ServiceError) -> None:
        headers = {"x-amzn-ErrorType": err.code}
        if isinstance(err, ThrottlingException):
            headers["Retry-After"] = str(err.retry_after_seconds)
        self._send(err.status, err.body(), headers)

    def _drop(self) -> None:
        """Closes the connection without an answer (the client sees a reset / closed connection)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        app = self.app
        url = urlsplit(self.path)
        body = self._body()
        if url.path.startswith(ADMIN_PREFIX):
            try:
                status, doc = admin.route(app, method, url.path, body)
            except (ValueError, TypeError, ServiceError) as exc:  # bad admin input
                status, doc = 400, {"message": str(exc)}
            self._send(status, doc)
            return
        op = app.router.find(method, url.path)
        if op is None:
            self._send_error(ValidationException(f"No operation at {method} {url.path}", "UNKNOWN_OPERATION"))
            return
        handler = getattr(app.backend, xform_name(op.name), None)
        counters, faults = app.counters, app.faults
        try:
            caller = app.signatures.check(method, self.path, self.headers, body)
        except ServiceError as err:
            counters.add(op.name, "error")
            self._send_error(err)
            return
        if faults.latency():
            time.sleep(faults.latency())
        fault = faults.before(op.name)
        if fault == "drop":
            counters.add(op.name, "dropped")
            self._drop()
            return
        if fault == "throttle":
            counters.add(op.name, "throttled")
            self._send_error(ThrottlingException("Rate exceeded", faults.config.retry_after_seconds))
            return
        if fault == "error":
            counters.add(op.name, "faulted")
            self._send_error(InternalServerException("We encountered an internal error. Please try again."))
            return
        params: dict[str, Any] = {}
        trail = app.backend.trail
        try:
            if handler is None:
                raise ValidationException(f"The emulator does not implement {op.name}.", "UNKNOWN_OPERATION")
            query = parse_qs(url.query, keep_blank_values=True)
            app.triggers.fire(app.backend, op.name, query["package"][-1] if query.get("package") else None)
            params = parse_params(op, query, self.headers, body)
            caller = Caller(account=app.backend.account, region=caller.region, access_key=caller.access_key)
            result = handler(caller, **{xform_name(k): v for k, v in params.items()})
        except ServiceError as err:
            counters.add(op.name, "error")
            trail.record(op.name, caller.arn, params, error_code=err.code, error_message=err.message,
                         user_agent=self.headers.get("User-Agent") or "", read_only=method == "GET")
            self._send_error(err)
            return
        except Exception as exc:  # a bug in the emulator: answer like the service would
            counters.add(op.name, "error")
            self._send_error(InternalServerException(f"emulator error: {type(exc).__name__}: {exc}"))
            return
        # CloudTrail: every call, status writes with what the service answered (emulator/trail.py).
        trail.record(op.name, caller.arn, params,
                     response=result if op.name in STATUS_WRITES else None,
                     user_agent=self.headers.get("User-Agent") or "", read_only=method == "GET")
        after = faults.after(op.name)
        if after == "drop":
            counters.add(op.name, "dropped")
            self._drop()
            return
        if after == "error":
            counters.add(op.name, "faulted")
            self._send_error(InternalServerException("We encountered an internal error. Please try again."))
            return
        counters.add(op.name, "ok")
        if isinstance(result, dict) and "__payload__" in result:  # a blob payload (GetPackageVersionAsset)
            self._send_bytes(result["__payload__"], result.get("__headers__") or {})
            return
        self._send(200, result)


__all__ = ["Emulator", "Router", "Signatures", "parse_params", "validate", "rules"]
