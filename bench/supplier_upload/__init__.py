"""The supplier portal's CSV stock upload against the snapshot API, for the same rows in the same
run (issue 22): 50,000 counts (``site,sku,on_hand``) for one supplier site, sent

(a) as ``POST /api/v1/stock/snapshots`` (JSON, a ``wms`` client's bearer token), the baseline;
(b) as the portal's upload (``POST /supplier/stock/upload/`` multipart, a logged-in supplier
    user's session and CSRF token, then the report page it redirects to), both on one real
    gunicorn server;
(c) through ``suppliers.portal.stock_upload.stock_upload_run`` in this process, the service call
    the upload view makes, to show what HTTP and the multipart parsing add.

Each is measured on a fresh site (rows inserted) and again with every count changed (rows
updated), `ROUNDS` times, alternating API and portal; the median counts. Stock levels and
movements are truncated before each fresh phase. Payloads are built before the clock starts.
Target: the portal's rate is at least 0.5 of the API's (``portal_http_* / api_http_*``).
"""

from __future__ import annotations

import http.client
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any

from bench.harness.config import BenchConfig
from bench.harness.database import bench_database, products_create, raw_connection
from bench.harness.processes import Server, gunicorn_server, warm_up_workers
from bench.harness.report import Results, Stopwatch, print_table, scaled, step, thousands, verdict

NAME = "supplier_upload"
FULL_ROWS = 50_000
ROUNDS = 3
TARGET_RATIO = 0.5
SITE = "SUP-BENCH"
USER, PASSWORD = "bench-supplier", "bench-supplier-pw-1"


@dataclass(frozen=True)
class Plan:
    skus: list[str]
    fresh: list[int]
    update: list[int]  # every count differs from `fresh`


def _plan(config: BenchConfig) -> Plan:
    rng = random.Random(config.seed)
    skus = [f"BENCH-{n:06d}" for n in range(1, scaled(FULL_ROWS, config.scale, 1_000) + 1)]
    fresh = [rng.randint(0, 500) for _ in skus]
    update = [c + 1 if c < 500 else c - 1 for c in fresh]
    return Plan(skus, fresh, update)


def _setup(plan: Plan) -> tuple[Any, int, str]:
    from django.contrib.auth.models import User

    from inventory.models import Capability
    from inventory.services import LocationData, location_upsert
    from oms.core.clients import api_client_create
    from suppliers.models import Supplier, SupplierSite, SupplierUser

    products_create(plan.skus)
    location, _created = location_upsert(data=LocationData(
        code=SITE, name="Bench supplier site", kind="supplier", address={"country": "DE"},
        lat=None, lon=None, capabilities=[Capability.SHIPS]))
    # Staff create suppliers and their people in the admin; rows directly here, as the tests'
    # factories do.
    supplier = Supplier.objects.create(code="BENCH", name="Bench Lieferant GmbH",
                                       contact_email="bench@supplier.example")
    SupplierSite.objects.create(supplier=supplier, location=location)
    user = User.objects.create_user(USER, "bench@supplier.example", PASSWORD)
    SupplierUser.objects.create(user=user, supplier=supplier)
    _client, token = api_client_create(name="bench-wms", kind="wms")
    return location, supplier.pk, token


# -- HTTP with a session --------------------------------------------------------------------------

class Browser:
    """Just enough of a browser for Django's session and CSRF cookies: one connection per
    request (gunicorn's sync workers close after every response)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.cookies: dict[str, str] = {}

    def call(self, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=300)
        try:
            cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            conn.request(method, path, body=body,
                         headers={**({"Cookie": cookie} if cookie else {}), **(headers or {})})
            response = conn.getresponse()
            data = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, dict(response.headers.items()), data
        finally:
            conn.close()

    def login(self) -> None:
        self.call("GET", "/supplier/login/")
        form = f"username={USER}&password={PASSWORD}&csrfmiddlewaretoken=" \
               f"{self.cookies['csrftoken']}&next=/supplier/stock/"
        status, _headers, body = self.call(
            "POST", "/supplier/login/", form.encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise RuntimeError(f"portal login failed: {status} {body[:300]!r}")


def _multipart(fields: dict[str, str], file_name: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{file_name}"\r\nContent-Type: text/csv\r\n\r\n'.encode())
    parts += [content, f"\r\n--{boundary}--\r\n".encode()]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _csv(plan: Plan, counts: list[int]) -> bytes:
    return ("site,sku,on_hand\n" + "".join(f"{SITE},{sku},{n}\n"
                                           for sku, n in zip(plan.skus, counts, strict=True))
            ).encode()


def _form_time(moment: datetime) -> str:
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class Measured:
    rows: int
    seconds: float
    applied: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


def _api(server: Server, token: str, plan: Plan, counts: list[int], as_of: datetime) -> Measured:
    body = json.dumps({"location": SITE, "as_of": as_of.isoformat(),
                       "levels": [{"sku": s, "on_hand": n}
                                  for s, n in zip(plan.skus, counts, strict=True)]}).encode()
    browser = Browser(server)
    with Stopwatch() as watch:
        status, _h, reply = browser.call("POST", "/api/v1/stock/snapshots", body, {
            "Authorization": f"Bearer {token}", "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex})
    if status != 200:
        raise RuntimeError(f"snapshot API answered {status}: {reply[:300]!r}")
    return Measured(len(counts), watch.seconds, json.loads(reply)["applied"])


def _portal(browser: Browser, plan: Plan, counts: list[int], as_of: datetime) -> Measured:
    upload_id = str(uuid.uuid4())
    body, content_type = _multipart({
        "csrfmiddlewaretoken": browser.cookies["csrftoken"], "upload_id": upload_id,
        "as_of": _form_time(as_of)}, "stock.csv", _csv(plan, counts))
    with Stopwatch() as watch:
        status, headers, reply = browser.call("POST", "/supplier/stock/upload/", body,
                                              {"Content-Type": content_type})
        if status != 302:
            raise RuntimeError(f"portal upload answered {status}: {reply[:500]!r}")
        status, _h, report = browser.call("GET", headers["Location"])
    if b'data-status="applied"' not in report:
        raise RuntimeError(f"portal upload not applied: {report[-2000:]!r}")
    applied = int(report.split(b'data-testid="applied">')[1].split(b"<")[0])
    return Measured(len(counts), watch.seconds, applied)


def _service(supplier_id: int, plan: Plan, counts: list[int], as_of: datetime) -> Measured:
    import io

    from suppliers.portal.stock_upload import stock_upload_run

    content = _csv(plan, counts)
    with Stopwatch() as watch:
        state = stock_upload_run(supplier_id=supplier_id, user=USER,
                                 upload_id=str(uuid.uuid4()), file=io.BytesIO(content),
                                 size=len(content), file_name="stock.csv", as_of=as_of)
    return Measured(len(counts), watch.seconds, (state.result or {}).get("applied", 0))


def _truncate(config: BenchConfig, db: str) -> None:
    with raw_connection(config, db) as conn:
        conn.execute("TRUNCATE inventory_stocklevel, inventory_stockmovement CASCADE")


def run(config: BenchConfig) -> Results:
    from django.utils import timezone

    plan = _plan(config)
    results = Results(NAME, config, parameters={
        "rows": len(plan.skus), "sites": 1, "rounds": ROUNDS,
        "csv_bytes": len(_csv(plan, plan.fresh)),
        "gunicorn_workers": config.gunicorn_workers,
        "portal_timed": "multipart POST /supplier/stock/upload/ + GET of the report it "
                        "redirects to",
        "api_timed": "POST /api/v1/stock/snapshots with an Idempotency-Key",
    })
    print(f"\nsupplier_upload: {thousands(len(plan.skus))} rows for one supplier site, "
          f"{ROUNDS} rounds, portal CSV upload vs. snapshot API")
    phases: dict[str, list[Measured]] = {}
    with bench_database(config, NAME) as db:
        step(f"setup in database {db}: products, a supplier with its site and user, a wms client")
        _location, supplier_id, token = _setup(plan)
        # Minute steps: the portal's form takes the time to the minute.
        base = timezone.now().replace(second=0, microsecond=0) - timedelta(days=1)
        step(f"starting gunicorn -w {config.gunicorn_workers}")
        with gunicorn_server(config, db) as server:
            warm_up_workers(server, "/api/v1/locations", {"Authorization": f"Bearer {token}"})
            browser = Browser(server)
            browser.login()
            for _ in range(server.workers * 2):  # every worker loads the portal's templates
                browser.call("GET", "/supplier/stock/upload/")
            at = base + timedelta(hours=1)
            for n in range(ROUNDS):
                step(f"round {n + 1}: API then portal, fresh and update")
                for kind in ("api", "portal"):
                    _truncate(config, db)
                    for phase, counts in (("fresh", plan.fresh), ("update", plan.update)):
                        at += timedelta(minutes=1)
                        measured = _api(server, token, plan, counts, at) if kind == "api" \
                            else _portal(browser, plan, counts, at)
                        phases.setdefault(f"{kind}_http_{phase}", []).append(measured)
                time.sleep(0.2)
        step("service: stock_upload_run in this process (what the upload view calls)")
        at += timedelta(minutes=1)
        _service(supplier_id, plan, plan.fresh, at)  # warm-up: imports, prepared statements
        for _n in range(ROUNDS):
            _truncate(config, db)
            for phase, counts in (("fresh", plan.fresh), ("update", plan.update)):
                at += timedelta(minutes=1)
                phases.setdefault(f"portal_service_{phase}", []).append(
                    _service(supplier_id, plan, counts, at))
    _report(results, plan, phases)
    return results


def _median(runs: list[Measured]) -> Measured:
    return sorted(runs, key=lambda m: m.seconds)[len(runs) // 2]


def _report(results: Results, plan: Plan, phases: dict[str, list[Measured]]) -> None:
    table = [["metric", "rows/s (median)", "seconds", "all rounds s", "ratio to API", "target",
              ""]]
    for name, runs in phases.items():
        m = _median(runs)
        phase = name.rsplit("_", 1)[1]
        api = _median(phases[f"api_http_{phase}"]).rows_per_second
        ratio = m.rows_per_second / api
        target, ok = "", ""
        if name.startswith("portal_http_"):
            target, ok = f">= {TARGET_RATIO} of API", verdict(ratio >= TARGET_RATIO)
        table.append([f"supplier_upload.{name}", f"{thousands(m.rows_per_second)} rows/s",
                      f"{m.seconds:.2f}", " ".join(f"{r.seconds:.2f}" for r in runs),
                      f"{ratio:.2f}", target, ok])
        results.metrics[name] = {
            "rows": m.rows, "seconds": round(m.seconds, 4),
            "rows_per_second": round(m.rows_per_second, 1),
            "ratio_to_api": round(ratio, 4),
            "rounds_seconds": [round(r.seconds, 4) for r in runs],
            "applied": m.applied,
        }
        if name.startswith("portal_http_"):
            results.metrics[name]["target"] = {"ratio_to_api": TARGET_RATIO,
                                               "met": ratio >= TARGET_RATIO}
        if any(r.applied != len(plan.skus) for r in runs):
            results.notes.append(f"{name}: applied {[r.applied for r in runs]} of "
                                 f"{len(plan.skus)} rows")
    print()
    print_table(table, right=(1, 2, 4))
    print(f"  median of {ROUNDS} rounds; the portal's time includes the GET of the report page; "
          "stock levels and movements are truncated before each fresh phase")
    results.print_notes()

