"""A small HTTP client that logs in like a browser and times requests."""

from __future__ import annotations

import http.client
import re
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class Browser:
    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, ConnectionError):
            self.conn.close()
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, text

    def csrf(self, path: str) -> str:
        status, text = self.request("GET", path)
        match = CSRF.search(text)
        if status != 200 or match is None:
            raise RuntimeError(f"no form at {path}: HTTP {status}")
        return match.group(1) or match.group(2)

    def login(self, username: str, password: str) -> None:
        token = self.csrf("/login")
        status, _ = self.request("POST", "/login", {"csrf_token": token, "username": username,
                                                    "password": password})
        if status != 302:
            raise RuntimeError(f"login failed for {username}: HTTP {status}")


@dataclass
class Timings:
    samples: list[float] = field(default_factory=list)
    errors: int = 0
    locked: int = 0

    def add(self, other: Timings) -> None:
        self.samples += other.samples
        self.errors += other.errors
        self.locked += other.locked

    def percentile(self, p: float) -> float:
        ordered = sorted(self.samples)
        if not ordered:
            return float("nan")
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[index] * 1000

    def summary(self) -> dict:
        return {"n": len(self.samples), "p50": self.percentile(50), "p95": self.percentile(95),
                "p99": self.percentile(99),
                "mean": statistics.fmean(self.samples) * 1000 if self.samples else float("nan"),
                "errors": self.errors, "locked": self.locked}


def vitals_form(token: str, zone: str) -> dict:
    now = datetime.now(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")
    return {"csrf_token": token, "idempotency_key": uuid.uuid4().hex, "observed_at": now,
            "heart_rate": "78", "systolic_bp": "124", "diastolic_bp": "78",
            "respiratory_rate": "16", "temperature": "36.9", "spo2": "97",
            "air_or_oxygen": "air", "consciousness": "A"}


def timed(browser: Browser, method: str, path: str, form: dict | None, expect: int,
          timings: Timings) -> None:
    started = time.perf_counter()
    status, text = browser.request(method, path, form)
    elapsed = time.perf_counter() - started
    if status != expect:
        timings.errors += 1
        if "database is locked" in text:
            timings.locked += 1
    else:
        timings.samples.append(elapsed)


def run_clients(count: int, work) -> Timings:
    """Run `work(index, timings)` in `count` threads at once and merge their timings."""
    results = [Timings() for _ in range(count)]
    barrier = threading.Barrier(count)

    def runner(index: int):
        barrier.wait()
        work(index, results[index])

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    merged = Timings()
    for result in results:
        merged.add(result)
    return merged
