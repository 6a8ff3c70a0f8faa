"""Stand-ins for HubSpot (CRM v3) and Salesforce (REST + OAuth token endpoint) on loopback.

Shapes follow the vendors' documentation:

HubSpot (plain HTTP; the client's host is `DEALCOACH_HUBSPOT_URL`), bearer private-app token:
- `POST /crm/v3/objects/deals/search` → `{"total", "results": [SimplePublicObject], "paging"}`
- `GET /crm/v3/objects/deals/{id}?properties=…&associations=contacts,companies` →
  a SimplePublicObjectWithAssociations (`associations.contacts.results[].{id,type}`)
- `GET /crm/v3/objects/companies/{id}?properties=name`
- `POST /crm/v3/objects/contacts/batch/read` (`{"inputs": [{"id"}], "properties"}`) →
  `{"status": "COMPLETE", "results", "startedAt", "completedAt"}`
- `POST /crm/v3/objects/notes` (`properties.hs_note_body`, `hs_timestamp`, `associations[]`
  with `associationTypeId` 214 to the deal) → 201; `PATCH /crm/v3/objects/notes/{id}` → 200
- errors: 401 `{"status": "error", "category": "INVALID_AUTHENTICATION"}`, 429 with
  `Retry-After` and `{"errorType": "RATE_LIMIT", "category": "RATE_LIMITS"}`, 503.

Salesforce (HTTPS with a self-signed certificate for 127.0.0.1: simple-salesforce always uses
https; tests trust it through REQUESTS_CA_BUNDLE):
- `POST /services/oauth2/token` (form; `grant_type=password` or the JWT bearer grant) →
  `{"access_token", "instance_url", "id", "token_type": "Bearer", "issued_at", "signature"}`,
  400 `{"error": "invalid_grant", "error_description"}` when refused
- `GET /services/data/vXX.X/query/?q=SOQL` → `{"totalSize", "done": true, "records": [...]}`
  each record with `attributes.type/url`
- `POST /services/data/vXX.X/sobjects/Task/` → 201 `{"id", "success": true, "errors": []}`;
  `PATCH …/sobjects/Task/{id}` → 204
- errors: 401 `[{"errorCode": "INVALID_SESSION_ID"}]`, 403
  `[{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}]`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

NOW = "2026-11-30T10:00:00.000Z"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


Reply = tuple[int, dict[str, str], Any]


class _Server:
    """A threaded HTTP(S) server that hands each request to `handle` and records it."""

    def __init__(self, handle: Callable[[Request], Reply], cert: tuple[str, str] | None = None):
        self.requests: list[Request] = []
        self._handle = handle
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                ctype = self.headers.get("Content-Type") or ""
                body: Any = raw.decode()
                if raw and "json" in ctype:
                    body = json.loads(raw)
                elif raw and "form" in ctype:
                    body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                url = urlsplit(self.path)
                req = Request(
                    self.command, url.path, parse_qs(url.query), dict(self.headers.items()), body
                )
                outer.requests.append(req)
                status, headers, payload = outer._handle(req)
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                if payload is not None:
                    self.send_header("Content-Type", "application/json")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        scheme = "http"
        if cert is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*cert)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Faults:
    """Scripted failures: `status` for the next `times` matching requests."""

    status: int = 0
    times: int = 0
    retry_after: str | None = None
    path_prefix: str = ""

    def take(self, path: str) -> int:
        if self.times > 0 and path.startswith(self.path_prefix):
            self.times -= 1
            return self.status
        return 0


def _multi(query: dict[str, list[str]], name: str) -> list[str]:
    """A list query parameter, repeated (`a=x&a=y`) or comma-separated (`a=x,y`): HubSpot
    accepts both."""
    return [part for value in query.get(name, []) for part in value.split(",") if part]


# --- HubSpot -------------------------------------------------------------------------------


@dataclass
class HubSpotStandIn:
    token: str = "pat-na1-11111111-2222-3333-4444-555555555555"
    deals: dict[str, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[str, dict[str, str]] = field(default_factory=dict)
    companies: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    revoked: bool = False
    note_delay: float = 0.0  # seconds a note create/update takes
    search_delay: float = 0.0  # seconds a deal search takes
    _ids: Any = field(default_factory=lambda: itertools.count(9001))

    def start(self) -> HubSpotStandIn:
        self.server = _Server(self.handle)
        self.url = self.server.url
        return self

    @property
    def requests(self) -> list[Request]:
        return self.server.requests

    def seed(self) -> HubSpotStandIn:
        self.companies["501"] = {"name": "Acme Corp"}
        self.contacts["201"] = {"firstname": "Ann", "lastname": "Buyer", "jobtitle": "CFO"}
        self.contacts["202"] = {"firstname": "Tom", "lastname": "Tech", "jobtitle": "CTO"}
        self.deals["101"] = {
            "properties": {
                "dealname": "Acme renewal",
                "amount": "48000",
                "dealstage": "presentationscheduled",
                "pipeline": "default",
                "hs_is_closed": "false",
            },
            "contacts": ["201", "202"],
            "companies": ["501"],
        }
        self.deals["102"] = {
            "properties": {"dealname": "Globex pilot", "amount": "", "dealstage": "qualifiedtobuy",
                           "pipeline": "default", "hs_is_closed": "false"},
            "contacts": [],
            "companies": [],
        }
        self.deals["103"] = {
            "properties": {"dealname": "Acme old deal", "amount": "1000", "dealstage": "closedwon",
                           "pipeline": "default", "hs_is_closed": "true"},
            "contacts": [],
            "companies": [],
        }
        return self

    def _obj(self, oid: str, props: dict[str, Any]) -> dict[str, Any]:
        return {"id": oid, "properties": props, "createdAt": NOW, "updatedAt": NOW,
                "archived": False}

    def _error(self, status: int) -> Reply:
        if status == 429:
            headers = {"Retry-After": self.faults.retry_after or "1"}
            return 429, headers, {
                "status": "error", "message": "You have reached your secondly limit.",
                "errorType": "RATE_LIMIT", "correlationId": "c-1", "category": "RATE_LIMITS",
            }
        if status == 401:
            return 401, {}, {
                "status": "error", "message": "Authentication credentials not found.",
                "correlationId": "c-2", "category": "INVALID_AUTHENTICATION",
            }
        return status, {}, {"status": "error", "message": "Internal error", "category": "ERROR"}

    def handle(self, req: Request) -> Reply:
        if req.headers.get("Authorization") != f"Bearer {self.token}" or self.revoked:
            return self._error(401)
        fault = self.faults.take(req.path)
        if fault:
            return self._error(fault)
        p = req.path
        if req.method == "POST" and p == "/crm/v3/objects/deals/search":
            time.sleep(self.search_delay)
            return self._search(req.body)
        m = re.fullmatch(r"/crm/v3/objects/deals/(\w+)", p)
        if req.method == "GET" and m:
            deal = self.deals.get(m.group(1))
            if deal is None:
                return 404, {}, {"status": "error", "message": "Object not found",
                                 "category": "OBJECT_NOT_FOUND"}
            props = _multi(req.query, "properties")
            out = self._obj(m.group(1), {k: v for k, v in deal["properties"].items()
                                         if k in props})
            wanted = _multi(req.query, "associations")
            assoc = {}
            for kind, single in (("contacts", "contact"), ("companies", "company")):
                if kind in wanted and deal[kind]:
                    assoc[kind] = {
                        "results": [{"id": i, "type": f"deal_to_{single}"} for i in deal[kind]]
                    }
            if assoc:
                out["associations"] = assoc
            return 200, {}, out
        m = re.fullmatch(r"/crm/v3/objects/companies/(\w+)", p)
        if req.method == "GET" and m and m.group(1) in self.companies:
            return 200, {}, self._obj(m.group(1), self.companies[m.group(1)])
        if req.method == "POST" and p == "/crm/v3/objects/contacts/batch/read":
            results = [self._obj(i["id"], self.contacts[i["id"]])
                       for i in req.body["inputs"] if i["id"] in self.contacts]
            return 200, {}, {"status": "COMPLETE", "results": results, "startedAt": NOW,
                             "completedAt": NOW}
        if p.startswith("/crm/v3/objects/notes") and self.note_delay:
            time.sleep(self.note_delay)
        if req.method == "POST" and p == "/crm/v3/objects/notes":
            nid = str(next(self._ids))
            self.notes[nid] = {"properties": dict(req.body["properties"]),
                               "associations": req.body.get("associations") or []}
            return 201, {}, self._obj(nid, self.notes[nid]["properties"])
        m = re.fullmatch(r"/crm/v3/objects/notes/(\w+)", p)
        if req.method == "PATCH" and m:
            note = self.notes.get(m.group(1))
            if note is None:
                return 404, {}, {"status": "error", "message": "Object not found",
                                 "category": "OBJECT_NOT_FOUND"}
            note["properties"].update(req.body["properties"])
            return 200, {}, self._obj(m.group(1), note["properties"])
        return 404, {}, {"status": "error", "message": f"no route {req.method} {p}"}

    def _search(self, body: dict[str, Any]) -> Reply:
        query = str(body.get("query") or "").casefold()
        filters = [f for g in body.get("filterGroups") or [] for f in g.get("filters") or []]
        hits = []
        for did, deal in self.deals.items():
            props = deal["properties"]
            if any(props.get(f["propertyName"]) != f["value"] for f in filters
                   if f.get("operator") == "EQ"):
                continue
            if query and query not in props["dealname"].casefold():
                continue
            hits.append(self._obj(did, {k: props.get(k) for k in body.get("properties") or []}))
        limit = int(body.get("limit") or 10)
        return 200, {}, {"total": len(hits), "results": hits[:limit]}

    def notes_on(self, deal_id: str) -> list[dict[str, Any]]:
        return [
            n for n in self.notes.values()
            if any(a["to"]["id"] == deal_id and a["types"][0]["associationTypeId"] == 214
                   for a in n["associations"])
        ]

    def close(self) -> None:
        self.server.close()


# --- Salesforce ----------------------------------------------------------------------------


def self_signed_cert(folder: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 (and its key), written to `folder`."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "standin.pem", folder / "standin.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


@dataclass
class SalesforceStandIn:
    username: str = "rep@acme.example"
    password: str = "hunter2-password"
    security_token: str = "SecTok123456789"
    consumer_key: str = "3MVG9-consumer-key-0123456789"
    consumer_secret: str = "consumer-secret-0123456789ABCDEF"
    jwt_public_key: Any = None
    opportunities: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    revoked: bool = False
    sessions: set[str] = field(default_factory=set)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def start(self, folder: Path) -> SalesforceStandIn:
        self.cert, key = self_signed_cert(folder)
        self.server = _Server(self.handle, cert=(self.cert, key))
        self.url = self.server.url
        return self

    @property
    def requests(self) -> list[Request]:
        return self.server.requests

    def seed(self) -> SalesforceStandIn:
        self.opportunities["006000000000001AAA"] = {
            "Name": "Initech expansion", "Amount": 125000.0, "StageName": "Negotiation/Review",
            "Account": {"attributes": {"type": "Account"}, "Name": "Initech"}, "IsClosed": False,
        }
        self.opportunities["006000000000002AAA"] = {
            "Name": "Initech old", "Amount": 10.0, "StageName": "Closed Won",
            "Account": {"attributes": {"type": "Account"}, "Name": "Initech"}, "IsClosed": True,
        }
        self.roles["006000000000001AAA"] = [
            {"Contact": {"attributes": {"type": "Contact"}, "Name": "Peter Gibbons",
                         "Title": "VP Operations"}, "Role": "Decision Maker", "IsPrimary": True},
            {"Contact": {"attributes": {"type": "Contact"}, "Name": "Bill Lumbergh",
                         "Title": None}, "Role": "Economic Buyer", "IsPrimary": False},
        ]
        return self

    def credentials(self) -> dict[str, str]:
        return {"login_url": self.url, "username": self.username, "password": self.password,
                "security_token": self.security_token, "consumer_key": self.consumer_key,
                "consumer_secret": self.consumer_secret}

    def _limit(self) -> Reply:
        return 403, {}, [{"message": "TotalRequests Limit exceeded.",
                          "errorCode": "REQUEST_LIMIT_EXCEEDED"}]

    def handle(self, req: Request) -> Reply:
        if req.path == "/services/oauth2/token" and req.method == "POST":
            return self._token(req.body)
        auth = req.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.sessions:
            return 401, {}, [{"message": "Session expired or invalid",
                              "errorCode": "INVALID_SESSION_ID"}]
        fault = self.faults.take(req.path)
        if fault == 403:
            return self._limit()
        if fault:
            return fault, {}, [{"message": "Server error", "errorCode": "SERVER_ERROR"}]
        m = re.fullmatch(r"/services/data/v[\d.]+/query/?", req.path)
        if m and req.method == "GET":
            return self._query(req.query["q"][0])
        m = re.fullmatch(r"/services/data/v[\d.]+/sobjects/Task/?", req.path)
        if m and req.method == "POST":
            tid = f"00T{next(self._ids):015d}"
            self.tasks[tid] = dict(req.body)
            return 201, {}, {"id": tid, "success": True, "errors": []}
        m = re.fullmatch(r"/services/data/v[\d.]+/sobjects/Task/(\w+)", req.path)
        if m and req.method == "PATCH":
            if m.group(1) not in self.tasks:
                return 404, {}, [{"message": "The requested resource does not exist",
                                  "errorCode": "NOT_FOUND"}]
            self.tasks[m.group(1)].update(req.body)
            return 204, {}, None
        return 404, {}, [{"message": "no route", "errorCode": "NOT_FOUND"}]

    def _token(self, form: dict[str, str]) -> Reply:
        refused = (
            400, {}, {"error": "invalid_grant", "error_description": "authentication failure"}
        )
        if self.revoked:
            return refused
        grant = form.get("grant_type")
        if grant == "password":
            ok = (form.get("client_id") == self.consumer_key
                  and form.get("client_secret") == self.consumer_secret
                  and form.get("username") == self.username
                  and form.get("password") == self.password + self.security_token)
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            import jwt

            try:
                claims = jwt.decode(form["assertion"], self.jwt_public_key, algorithms=["RS256"],
                                    audience=self.url)
                ok = claims["iss"] == self.consumer_key and claims["sub"] == self.username
            except jwt.PyJWTError:
                ok = False
        else:
            ok = False
        if not ok:
            return refused
        token = f"00D000000000001!AQ{next(self._ids):08d}"
        self.sessions.add(token)
        return 200, {}, {"access_token": token, "instance_url": self.url,
                         "id": f"{self.url}/id/00D000000000001/005000000000001",
                         "token_type": "Bearer", "issued_at": "1764583200000",
                         "signature": "c2lnbmF0dXJl"}

    def _record(self, obj: str, rid: str, fields: dict[str, Any]) -> dict[str, Any]:
        return {"attributes": {"type": obj, "url": f"/services/data/v59.0/sobjects/{obj}/{rid}"},
                **fields}

    def _query(self, soql: str) -> Reply:
        records: list[dict[str, Any]] = []
        if "FROM OpportunityContactRole" in soql:
            opp = re.search(r"OpportunityId = '(\w+)'", soql)
            for role in self.roles.get(opp.group(1) if opp else "", []):
                records.append(self._record("OpportunityContactRole", "00K1", role))
        elif "FROM Opportunity" in soql:
            by_id = re.search(r"Id = '(\w+)'", soql)
            like = re.search(r"Name LIKE '%(.*)%'", soql)
            for oid, opp in self.opportunities.items():
                if by_id and by_id.group(1) != oid:
                    continue
                if "IsClosed = false" in soql and opp["IsClosed"]:
                    continue
                if like:
                    needle = re.sub(r"\\(.)", r"\1", like.group(1)).casefold()
                    if needle not in opp["Name"].casefold():
                        continue
                fields = {"Id": oid, **{k: v for k, v in opp.items() if k != "IsClosed"}}
                records.append(self._record("Opportunity", oid, fields))
        return 200, {}, {"totalSize": len(records), "done": True, "records": records}

    def tasks_on(self, opp_id: str) -> list[dict[str, Any]]:
        return [t for t in self.tasks.values() if t.get("WhatId") == opp_id]

    def close(self) -> None:
        self.server.close()
