"""Locust users for `make load` (bench/load/run.py): 50 patients and 10 specialists.

Each simulated user signs in to an account of its own, seeded by run.py and handed out in turn
from the JSON file named by LOAD_ACCOUNTS. Patients first send the photos they came with (a burst
at the start that queues work for the Celery workers), then browse their case and send photos and PDFs
the way the upload widget does (frontend/src/upload.js: one PUT per file, the file as the body,
the name percent-encoded in X-File-Name, the form's CSRF token in X-CSRFToken), then poll the
status JSON every 2 s while the file is being checked. Specialists pass the second factor (TOTP),
browse the queue, their cases' workspaces and photos, and each signs the report of one case
(step-up with a fresh code first), which queues a PDF render.

Requests are named by route ("GET /cases/[id]/files/") so locust's statistics group per page.
With LOAD_REQUEST_LOG set, every request is also appended to that file as a JSON line
(end time, name, status, milliseconds, error), for the 5xx timeline of the chaos run.

ROUTES lists every path requested here with the view it must reach; tests/test_load_locustfile.py
resolves them, so a changed URL breaks a test rather than `make load`.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from locust import HttpUser, between, events, task
from locust.clients import LocustHttpAdapter
from locust.exception import StopUser
from urllib3.util.retry import Retry

# Every path requested, with the view (namespace:name) it must resolve to.
ROUTES: dict[str, tuple[str, str]] = {
    "login": ("/accounts/login/", "accounts:login"),
    "mfa_verify": ("/accounts/mfa/verify/", "accounts:mfa_verify"),
    "step_up": ("/accounts/security/step-up/", "accounts:step_up"),
    "patient_home": ("/patient/", "cases:patient_home"),
    "case": ("/cases/{case}/", "cases:detail"),
    "files": ("/cases/{case}/files/", "uploads:files"),
    "upload_file": ("/cases/{case}/files/upload/file/", "uploads:upload_file"),
    "status": ("/cases/{case}/files/status/", "uploads:status"),
    "specialist_home": ("/specialist/", "reports:specialist_home"),
    "queue": ("/specialist/queue/", "reports:queue"),
    "workspace": ("/specialist/cases/{case}/", "reports:workspace"),
    "photo": ("/specialist/cases/{case}/photos/{upload}/", "reports:photo"),
    "image": ("/files/{upload}/image/", "uploads:image"),
    "thumbnail": ("/files/{upload}/thumbnail/", "uploads:thumbnail"),
    "report": ("/specialist/cases/{case}/report/", "reports:edit"),
    "sign": ("/specialist/cases/{case}/report/sign/", "reports:sign"),
}

POLL_SECONDS = 2  # the widget's POLL_MS
MAX_POLLS = int(os.environ.get("LOAD_MAX_POLLS", "5"))  # then the patient moves on (the page would poll on)
PENDING = {"received", "scanning"}
TOTP_STEP = 30
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
MAX_UPLOADS = int(os.environ.get("LOAD_MAX_UPLOADS_PER_PATIENT", "60"))
BURST_PHOTOS = int(os.environ.get("LOAD_BURST_PHOTOS", "4"))  # sent by each patient right after signing in
SIGN_AFTER_SECONDS = float(os.environ.get("LOAD_SIGN_AFTER_SECONDS", "30"))
SIGN_SPREAD_SECONDS = float(os.environ.get("LOAD_SIGN_SPREAD_SECONDS", "10"))


def route(key: str, **ids: Any) -> tuple[str, str]:
    """(path, request name) of a route: the name has "[id]" where the path has an id."""
    template = ROUTES[key][0]
    name = re.sub(r"\{\w+\}", "[id]", template)
    method = "PUT" if key == "upload_file" else "GET"
    return template.format(**ids), f"{method} {name}"


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    if not match:
        raise ValueError("no CSRF token on the page")
    return match.group(1)


# --- accounts ---------------------------------------------------------------------------------


class Accounts:
    """The seeded accounts (LOAD_ACCOUNTS), each handed to exactly one simulated user."""

    def __init__(self) -> None:
        self._data: dict[str, list[dict[str, Any]]] | None = None
        self._counters = {"patients": itertools.count(), "specialists": itertools.count()}
        self._lock = threading.Lock()

    def take(self, kind: str) -> dict[str, Any]:
        with self._lock:
            if self._data is None:
                self._data = json.loads(Path(os.environ["LOAD_ACCOUNTS"]).read_text())
            accounts = self._data[kind]
            index = next(self._counters[kind])
        if index >= len(accounts):
            raise StopUser(f"more {kind} than seeded accounts ({len(accounts)})")
        return accounts[index]


ACCOUNTS = Accounts()
STARTED = time.time()


# --- files like a patient's ---------------------------------------------------------------------


class Files:
    """Photos (1600x1200 JPEG, gradients and noise, 0.3 to 2 MB) and small scanned-letter PDFs.
    A few base files are made before the users start (making them would stall every simulated
    user: they share one process); each upload gets a JPEG comment or PDF title of random bytes,
    so no two uploads are the same file (each has its own SHA-256, as the receipt shows)."""

    # (noise sigma, JPEG quality): about 0.3, 0.5, 0.8, 1.1, 1.5 and 1.9 MB.
    PHOTO_KINDS = [(16, 88), (32, 85), (48, 88), (64, 92), (96, 94), (128, 96)]
    TITLE = "x" * 32  # replaced by 32 hex digits in each copy: same length, so the xref stays right

    def __init__(self) -> None:
        self.photos: list[bytes] = []
        self.pdfs: list[bytes] = []

    def prepare(self) -> None:
        from PIL import Image

        if self.photos:
            return
        w, h = 1600, 1200
        base = Image.merge(
            "RGB",
            (
                Image.linear_gradient("L").resize((w, h)),
                Image.radial_gradient("L").resize((w, h)),
                Image.linear_gradient("L").rotate(90).resize((w, h)),
            ),
        )
        for sigma, quality in self.PHOTO_KINDS:
            noise = Image.merge("RGB", tuple(Image.effect_noise((w, h), sigma) for _ in range(3)))
            out = io.BytesIO()
            Image.blend(base, noise, 0.35).save(out, "JPEG", quality=quality)
            self.photos.append(out.getvalue())
        for _ in range(3):  # a letter-sized page with lines of "text" at 100 dpi, as a phone scan
            page = Image.new("L", (850, 1100), 245)
            for line in range(random.randint(20, 40)):
                page.paste(Image.effect_noise((random.randint(400, 700), 10), 60), (80, 80 + line * 24))
            out = io.BytesIO()
            page.save(out, "PDF", resolution=100, title=self.TITLE)
            self.pdfs.append(out.getvalue())

    def photo(self) -> bytes:
        base = random.choice(self.photos)
        comment = b"load " + uuid.uuid4().hex.encode() + os.urandom(32)
        # A COM segment straight after SOI: a valid JPEG with bytes of its own.
        return base[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + base[2:]

    def pdf(self) -> bytes:
        placeholder = self.TITLE.encode("utf-16-be")  # how Pillow writes the title
        return random.choice(self.pdfs).replace(placeholder, uuid.uuid4().hex.encode("utf-16-be"), 1)


FILES = Files()


# --- request log ------------------------------------------------------------------------------

_log_file = None
_log_lock = threading.Lock()


@events.init.add_listener
def _prepare(environment: Any, **kwargs: Any) -> None:
    global _log_file
    FILES.prepare()
    if path := os.environ.get("LOAD_REQUEST_LOG"):
        _log_file = open(path, "a", buffering=1)  # noqa: SIM115 - open for the whole run


@events.request.add_listener
def _log_request(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    response: Any = None,
    exception: Any = None,
    **kwargs: Any,
) -> None:
    if _log_file is None:
        return
    status = getattr(response, "status_code", 0) or 0
    line = json.dumps(
        [round(time.time(), 3), name, status, round(response_time, 1), type(exception).__name__ if exception else ""]
    )
    with _log_lock:
        _log_file.write(line + "\n")


@events.quitting.add_listener
def _close_log(environment: Any, **kwargs: Any) -> None:
    if _log_file is not None:
        _log_file.close()


# --- users ------------------------------------------------------------------------------------


class PortalUser(HttpUser):
    abstract = True
    wait_time = between(1, 3)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A browser sends a request once more when the kept-alive connection it reused turns out to
        # have been closed by the server at that moment (gunicorn closes idle ones after 5 s), and the
        # upload widget retries a file that got no answer. Locust does the same, once; an answer
        # (a 5xx too) is never retried.
        retry = Retry(total=1, connect=1, read=1, status=0, other=0, redirect=False, raise_on_status=False)
        self.client.mount("http://", LocustHttpAdapter(pool_manager=None, max_retries=retry))

    def sign_in(self, email: str, password: str) -> None:
        token = self.page_token("login")
        if not self.post_form("login", {"username": email, "password": password, "csrfmiddlewaretoken": token}):
            raise StopUser()

    def post_form(self, key: str, data: dict[str, str], *, query: str = "", refused_to: str = "", **ids: Any) -> bool:
        """POST a form as the browser does. Our forms answer a success with a redirect (to anywhere but
        `refused_to`, where a refusal sends the user back); anything else counts as a failure."""
        path, name = route(key, **ids)
        with self.client.post(
            path + query, name="POST " + name.split(" ", 1)[1], data=data, allow_redirects=False, catch_response=True
        ) as response:
            location = response.headers.get("Location", "")
            if response.status_code != 302 or (refused_to and refused_to in location):
                response.failure(f"answered {response.status_code} {'to ' + location if location else ''}")
                return False
        return True

    def get(self, key: str, **ids: Any) -> Any:
        path, name = route(key, **ids)
        return self.client.get(path, name=name)

    def page_token(self, key: str, **ids: Any) -> str:
        """GET a page with a form and return its CSRF token (as the browser's form holds it)."""
        response = self.get(key, **ids)
        try:
            return csrf_token(response.text)
        except ValueError:
            return ""


class Patient(PortalUser):
    weight = 50
    fixed_count = 50

    def on_start(self) -> None:
        account = ACCOUNTS.take("patients")
        self.case = account["case"]
        self.uploads = 0
        self.sign_in(account["email"], account["password"])
        self.get("patient_home")
        # First, the photos the patient came with, chosen together (the widget sends them one after
        # another): every patient at once makes a backlog for the workers at the start of the run.
        token = self.page_token("files", case=self.case)
        sent = [
            self.send(token, FILES.photo(), f"IMG_{random.randint(1000, 9999)}.jpg", "image/jpeg")
            for _ in range(BURST_PHOTOS)
        ]
        if sent and sent[-1]:
            self.wait_until_checked(sent[-1])

    @task(3)
    def home(self) -> None:
        self.get("patient_home")

    @task(3)
    def case_page(self) -> None:
        self.get("case", case=self.case)

    @task(2)
    def files_page(self) -> None:
        self.get("files", case=self.case)

    @task(1)
    def status(self) -> None:
        self.get("status", case=self.case)

    @task(int(os.environ.get("LOAD_PHOTO_WEIGHT", "5")))
    def upload_photo(self) -> None:
        self.upload(FILES.photo(), f"IMG_{random.randint(1000, 9999)}.jpg", "image/jpeg")

    @task(int(os.environ.get("LOAD_PDF_WEIGHT", "1")))
    def upload_pdf(self) -> None:
        self.upload(FILES.pdf(), f"scan-{random.randint(100, 999)}.pdf", "application/pdf")

    def upload(self, data: bytes, filename: str, content_type: str) -> None:
        if self.uploads >= MAX_UPLOADS:
            self.get("files", case=self.case)
            return
        token = self.page_token("files", case=self.case)  # the page the widget is on
        if sent := self.send(token, data, filename, content_type):
            self.wait_until_checked(sent)

    def send(self, token: str, data: bytes, filename: str, content_type: str) -> str | None:
        """PUT one file as the widget does; the new upload's id, or None if it was refused."""
        path, name = route("upload_file", case=self.case)
        headers = {
            "Content-Type": content_type,
            "Accept": "application/json",
            "X-CSRFToken": token,
            "X-File-Name": quote(filename),
        }
        # As the widget (Uppy's retryDelays): a 503 from the slow-client guard, every body thread of
        # that worker busy, is tried again after 0, 1, 3 and 5 s; the retries show under their own name.
        for attempt, delay in enumerate((0, 1, 3, 5, None)):
            label = name if attempt == 0 else f"{name} (retry after 503)"
            with self.client.put(path, data=data, headers=headers, name=label, catch_response=True) as response:
                if response.status_code == 503 and delay is not None:
                    response.success()
                    time.sleep(delay)
                    continue
                if response.status_code != 200:
                    response.failure(f"upload answered {response.status_code}")
                    return None
                answer = response.json()
                if answer.get("problems") or len(answer.get("files", [])) != 1:
                    response.failure(f"upload refused: {len(answer.get('problems', []))} problem(s)")
                    return None
                break
        self.uploads += 1
        return str(answer["files"][0]["id"])

    def wait_until_checked(self, upload_id: str) -> None:
        for _ in range(MAX_POLLS):  # the widget polls until nothing is being checked
            time.sleep(POLL_SECONDS)
            status = self.get("status", case=self.case)
            files = status.json().get("files", []) if status.ok else []
            if not any(f["status"] in PENDING for f in files if f["id"] == upload_id):
                break
        self.get("files", case=self.case)  # the widget reloads the list once the file is checked


class Specialist(PortalUser):
    weight = 10
    fixed_count = 10

    def on_start(self) -> None:
        account = ACCOUNTS.take("specialists")
        self.key = bytes.fromhex(account["totp_key"])
        self.cases: list[dict[str, Any]] = account["cases"]
        self.to_sign = [c for c in self.cases if c.get("sign")]
        # Spread the signatures over the run (30, 40, ... 120 s by default) so that renders run under load
        # and one may fall in the chaos run's Redis outage.
        self.sign_after = SIGN_AFTER_SECONDS + SIGN_SPREAD_SECONDS * account["number"]
        self.last_step = 0
        self.sign_in(account["email"], account["password"])
        # Staff must pass the second factor before any page (accounts.middleware.MFARequiredMiddleware).
        self.second_factor("mfa_verify", next_path=route("specialist_home")[0])

    def code(self) -> str | None:
        """The authenticator's code now, or None while the last one used is still current
        (django-otp refuses a code twice)."""
        from django_otp.oath import totp  # plain RFC 6238, no Django settings needed

        step = int(time.time()) // TOTP_STEP
        if step <= self.last_step:
            return None
        self.last_step = step
        return f"{totp(self.key, step=TOTP_STEP):06d}"

    def second_factor(self, key: str, *, next_path: str) -> bool:
        query = "?" + urlencode({"next": next_path})
        token = self.page_token(key)
        code = self.code()  # read off the app once the page is there, as a person would
        while code is None:  # only at sign-in, when no code is fresh yet
            time.sleep(1)
            code = self.code()
        return self.post_form(key, {"code": code, "csrfmiddlewaretoken": token, "next": next_path}, query=query)

    def some_case(self) -> dict[str, Any]:
        return random.choice(self.cases)

    @task(2)
    def home(self) -> None:
        self.get("specialist_home")

    @task(3)
    def queue(self) -> None:
        self.get("queue")

    @task(4)
    def workspace(self) -> None:
        case = self.some_case()
        self.get("workspace", case=case["case"])
        for upload in case["photos"][:3]:  # the page's thumbnails
            self.get("thumbnail", upload=upload)

    @task(3)
    def photo(self) -> None:
        case = self.some_case()
        if case["photos"]:
            upload = random.choice(case["photos"])
            self.get("photo", case=case["case"], upload=upload)
            self.get("image", upload=upload)

    @task(2)
    def report(self) -> None:
        self.get("report", case=self.some_case()["case"])

    @task(1)
    def sign(self) -> None:
        """Sign one prepared report: step-up with a fresh code, then confirm."""
        if not self.to_sign or time.time() - STARTED < self.sign_after or self.code_is_stale():
            return
        case = self.to_sign.pop(0)
        if not self.second_factor("step_up", next_path=route("sign", case=case["case"])[0]):
            return
        token = self.page_token("sign", case=case["case"])
        self.post_form(
            "sign", {"confirm": "on", "csrfmiddlewaretoken": token}, refused_to="/report/", case=case["case"]
        )

    def code_is_stale(self) -> bool:
        return int(time.time()) // TOTP_STEP <= self.last_step
