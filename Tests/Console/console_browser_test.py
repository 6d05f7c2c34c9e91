#!/usr/bin/env python3
"""The web console in a real browser: headless Chromium driven by Selenium against a real `arrow serve` on SQLite.

Usage: console_browser_test.py ARROW_BIN WORK_DIR SCREENSHOT_DIR PORT

Signs in, uploads a 64 MiB image through the upload form (progress bar to the end, image in the collection), has a
hostile image refused with its reasons, sets and reorders default images, moves a build through its phases over the
builder API while the monitor's row changes without a reload, watches log lines arrive live on the task page, proves
a forged request without the CSRF token is refused, checks a member sees no admin actions, and signs out (the
session's cookie is dead afterwards). Every page is fetched once more to check its Content-Security-Policy and that
it has no inline script. A screenshot of each page goes to SCREENSHOT_DIR.
"""
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

ARROW, WORK, SHOTS, PORT = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "console-test-password"
PAGES = ["login", "images", "image", "builds", "task", "settings", "operations"]
ASSETS = ["app.js", "login.js", "images.js", "image.js", "upload.js", "builds.js", "task.js", "settings.js",
          "webhooks.js", "operations.js", "charts.js", "console.css"]


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirects)


def http(method, path, token=None, body=None, headers=None, raw=False):
    """One API call; returns (status, headers, parsed body)."""
    data = None
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=all_headers)
    try:
        with OPENER.open(request, timeout=30) as response:
            payload = response.read()
            status, response_headers = response.status, response.headers
    except urllib.error.HTTPError as error:
        payload, status, response_headers = error.read(), error.code, error.headers
    if raw:
        return status, response_headers, payload
    try:
        return status, response_headers, json.loads(payload) if payload else None
    except ValueError:
        return status, response_headers, payload.decode(errors="replace")


def ok(condition, message):
    if not condition:
        raise AssertionError(message)


class Console:
    def __init__(self):
        self.data = os.path.join(WORK, "data")
        self.server = None
        self.driver = None
        self.shot = 0

    # ---- set-up: server, people, images -------------------------------------------------------------------------
    def start_server(self):
        env = dict(os.environ, ARROW_BCRYPT_COST="4", ARROW_LOG_LEVEL="info")
        init = subprocess.run([ARROW, "admin", "init", "--data-dir", self.data, "--email", "root@console.test", "--password-stdin"],
                              input=PASSWORD, capture_output=True, text=True, env=env, check=True)
        self.root = re.search(r"^(arw_\S+)$", init.stdout, re.M).group(1)
        log = open(os.path.join(WORK, "serve.log"), "w")
        self.server = subprocess.Popen([ARROW, "serve", "--data-dir", self.data, "--port", str(PORT)], stdout=log, stderr=log, env=env)
        for _ in range(200):
            try:
                if http("GET", "/readyz", raw=True)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        status, _, me = http("GET", "/api/me", self.root)
        ok(status == 200, f"root token does not work: {status} {me}")
        self.org = me["organization"]["id"]
        for email, role in [("admin@console.test", "admin"), ("member@console.test", "member")]:
            status, _, body = http("POST", f"/api/organizations/{self.org}/users", self.root,
                                   {"email": email, "password": PASSWORD, "role": role})
            ok(status == 201, f"creating {email}: {status} {body}")
        status, _, body = http("POST", f"/api/organizations/{self.org}/service-accounts", self.root, {"name": "console-test-builder"})
        ok(status == 201, f"service account: {status} {body}")
        self.builder = body["token"]

    def make_images(self):
        raw = os.path.join(WORK, "disk.raw")
        with open(raw, "wb") as out:
            out.write(os.urandom(64 << 20))
        self.big = os.path.join(WORK, "console-64mib.qcow2")
        # Random data does not compress: the qcow2 file is just over 64 MiB.
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, self.big], check=True)
        os.remove(raw)
        self.resumable = os.path.join(WORK, "resumable.raw")
        with open(self.resumable, "wb") as out:
            out.write(os.urandom(48 << 20))
        self.small = os.path.join(WORK, "second-image.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", self.small, "1G"], check=True)
        os.truncate(self.small, 2 << 20)  # images are at least 1 MiB
        # A qcow2 whose backing file is a host file: the inspector refuses it (it would read /etc/shadow).
        self.hostile = os.path.join(WORK, "hostile.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", "/etc/shadow", "-u", self.hostile, "1G"], check=True)
        os.truncate(self.hostile, 2 << 20)

    def start_browser(self):
        options = Options()
        for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000", "--disable-gpu"]:
            options.add_argument(argument)
        options.binary_location = "/usr/bin/chromium"
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.driver.set_page_load_timeout(30)

    # ---- helpers ----------------------------------------------------------------------------------------------
    def wait(self, condition, what, timeout=30):
        try:
            # A page redraws parts of itself as data arrives: an element read a moment ago may be gone (stale).
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1,
                                 ignored_exceptions=[StaleElementReferenceException]).until(lambda d: condition())
        except Exception as error:
            raise AssertionError(f"timed out waiting for {what}") from error

    def find(self, selector):
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def finds(self, selector):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def texts(self, selector):
        return self.driver.execute_script("return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent)", selector)

    def screenshot(self, name):
        self.shot += 1
        path = os.path.join(SHOTS, f"{self.shot:02d}-{name}.png")
        self.driver.save_screenshot(path)
        print(f"  screenshot {path}")

    def open(self, path, ready="main h1"):
        self.driver.get(BASE + path)
        try:
            self.wait(lambda: self.finds(ready) and "Loading" not in self.find("main").text, f"{path} to render")
        except AssertionError as error:
            raise AssertionError(f"{error}; the browser logged: {self.browser_errors()}") from None

    def sign_in(self, email):
        self.open("/console/login", "#login-form")
        self.find("input[name=email]").send_keys(email)
        self.find("input[name=password]").send_keys(PASSWORD)
        self.find("#login-form button[type=submit]").click()
        self.wait(lambda: "/console/images" in self.driver.current_url and self.finds("#collection table"), "the collection after sign-in")

    def session_cookie(self):
        cookie = self.driver.get_cookie("arrow_session")
        ok(cookie is not None, "no arrow_session cookie")
        return cookie

    def browser_fetch(self, method, path, body, csrf):
        """A request made from the page's own JavaScript (so with the session cookie), with or without the CSRF header."""
        script = """
            const [method, path, body, csrf, done] = arguments;
            const headers = {'Content-Type': 'application/json'};
            if (csrf) headers['X-CSRF-Token'] = csrf;
            fetch(path, {method, headers, body: JSON.stringify(body), credentials: 'same-origin'})
              .then(async (r) => done({status: r.status, body: await r.text()}))
              .catch((e) => done({status: 0, body: String(e)}));
        """
        return self.driver.execute_async_script(script, method, path, body, csrf)

    def browser_errors(self):
        """Policy violations and uncaught script errors the browser logged since the last call."""
        return [entry["message"] for entry in self.driver.get_log("browser")
                if any(mark in entry["message"] for mark in ["Content Security Policy", "Refused to", "Uncaught", "SyntaxError"])]

    def accessible_names_missing(self):
        return self.driver.execute_script("""
            const missing = [];
            for (const node of document.querySelectorAll('input, select, textarea, button')) {
              if (node.type === 'hidden') continue;
              const labelled = node.getAttribute('aria-label') || node.getAttribute('aria-labelledby')
                || (node.id && document.querySelector(`label[for="${CSS.escape(node.id)}"]`))
                || (node.tagName === 'BUTTON' && node.textContent.trim());
              if (!labelled) missing.push(node.outerHTML.slice(0, 120));
            }
            return missing;
        """)

    def check_page(self, name):
        """No CSP violations, every control named, no sideways scrolling at this width."""
        errors = self.browser_errors()
        ok(not errors, f"{name}: the browser reported policy violations or script errors: {errors}")
        missing = self.accessible_names_missing()
        ok(not missing, f"{name}: controls without an accessible name: {missing}")
        overflow = self.driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        ok(overflow <= 1, f"{name}: the page scrolls sideways by {overflow}px")

    # ---- the steps ----------------------------------------------------------------------------------------------
    def content_security_policy(self):
        for page in PAGES:
            status, headers, body = http("GET", f"/console/{page}", raw=True)
            ok(status == 200, f"/console/{page}: {status}")
            self.check_policy(f"/console/{page}", headers)
            html = body.decode()
            inline = [s for s in re.findall(r"<script\b[^>]*>", html) if "src=" not in s]
            ok(not inline, f"/console/{page} has inline script: {inline}")
            ok(" style=" not in html and "<style" not in html, f"/console/{page} has inline style")
        for asset in ASSETS:
            status, headers, body = http("GET", f"/console/assets/{asset}", raw=True)
            ok(status == 200, f"/console/assets/{asset}: {status}")
            self.check_policy(asset, headers)
            ok(headers.get("X-Content-Type-Options") == "nosniff", f"{asset}: no nosniff")
            text = body.decode()
            ok("innerHTML" not in text and "eval(" not in text and "new Function" not in text, f"{asset} builds markup or code from strings")
            # No string literal naming another origin (the SVG namespace is a name, not a fetch).
            foreign = re.findall(r"""["'`](?:https?:)?//(?!www\.w3\.org/2000/svg)[^"'`]*""", text)
            ok(not foreign, f"{asset} refers to another origin: {foreign}")
        status, headers, _ = http("GET", "/", raw=True)
        ok(status == 303 and headers.get("Location") == "/console/images", f"/ does not lead to the console: {status}")

    def check_policy(self, what, headers):
        policy = headers.get("Content-Security-Policy") or ""
        directives = {part.strip().split(" ")[0]: part.strip() for part in policy.split(";") if part.strip()}
        ok(directives.get("default-src") == "default-src 'none'", f"{what}: default-src is not 'none': {policy!r}")
        ok(directives.get("script-src") == "script-src 'self'", f"{what}: script-src is not exactly 'self': {policy!r}")
        ok(directives.get("style-src") == "style-src 'self'", f"{what}: style-src is not exactly 'self': {policy!r}")
        ok("unsafe-inline" not in policy and "unsafe-eval" not in policy, f"{what}: policy allows inline or eval: {policy!r}")
        ok(directives.get("frame-ancestors") == "frame-ancestors 'none'", f"{what}: may be framed: {policy!r}")

    def sign_in_as_admin(self):
        self.open("/console/images", "#login-form")
        ok("/console/login" in self.driver.current_url, "an anonymous visit did not go to the sign-in page")
        self.screenshot("sign-in")
        # A wrong password is refused with its reason on the page.
        self.find("input[name=email]").send_keys("admin@console.test")
        self.find("input[name=password]").send_keys("wrong password")
        self.find("#login-form button[type=submit]").click()
        self.wait(lambda: "invalid_credentials" in self.find("#login-error").text, "the refusal of a wrong password")
        self.find("input[name=email]").clear()
        self.sign_in("admin@console.test")
        cookie = self.session_cookie()
        ok(cookie["httpOnly"] and cookie.get("sameSite") == "Strict", f"session cookie flags: {cookie}")
        ok(not self.driver.execute_script("return document.cookie.includes('arrow_session')"), "the session cookie is readable from script")
        self.check_page("images")

    def upload(self):
        self.find("#upload-file").send_keys(self.big)
        self.find("#upload-name").clear()
        self.find("#upload-name").send_keys("console-64mib")
        seen = set()
        self.find("#upload-submit").click()
        deadline = time.time() + 180
        while time.time() < deadline and not self.finds("#upload-done") and not self.finds("#upload-refused"):
            seen.add(round(float(self.find("#upload-progress").get_attribute("value")), 1))
            time.sleep(0.05)
        ok(self.finds("#upload-done"), f"the upload did not finish: {self.find('#upload-result').text}")
        value = float(self.find("#upload-progress").get_attribute("value"))
        ok(value == 100, f"the progress bar ended at {value}")
        figures = self.find("#upload-figures").text
        ok(re.search(r"64\.\d MiB of 64\.\d MiB", figures) and "/s" in figures and "left" in figures, f"progress figures: {figures!r}")
        print(f"  progress values seen during the upload: {sorted(seen)[:12]}{'…' if len(seen) > 12 else ''}")
        self.wait(lambda: any(row.get_attribute("data-name") == "console-64mib" for row in self.finds("#collection tbody tr")),
                  "the uploaded image in the collection")
        self.screenshot("images-after-upload")

    def throttle(self, offline=False, upload=-1):
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": upload})

    def uploaded_parts(self, upload_id):
        status, _, body = http("GET", f"/api/vm_images/upload/{upload_id}", self.admin_token)
        if status != 200:
            return -1
        self.part_size = body["part_size"]
        return len(body["uploaded_parts"])

    def resumed_upload(self):
        """An upload slowed down, cut off for a moment, then the page reloaded mid-way: choosing the file again sends
        only the missing parts, and the stored image is byte for byte the file."""
        self.open("/console/images", "#upload-form")
        self.throttle(upload=6 << 20)
        self.find("#upload-file").send_keys(self.resumable)
        self.find("#upload-name").clear()
        self.find("#upload-name").send_keys("resumed-upload")
        self.find("#upload-submit").click()
        upload_id = self.wait(lambda: self.driver.execute_script(
            "return Object.keys(localStorage).filter((k) => k.startsWith('arrow-upload:')).map((k) => localStorage.getItem(k))[0]"),
            "the upload session in localStorage")
        self.wait(lambda: self.uploaded_parts(upload_id) >= 1, "a first part stored", 60)
        # The connection drops for two seconds: parts in flight fail and are sent again once it is back.
        self.throttle(offline=True)
        time.sleep(2)
        self.throttle(upload=6 << 20)
        self.wait(lambda: "retrying" in self.find("#upload-figures").text or self.uploaded_parts(upload_id) >= 2,
                  "the upload to notice the lost connection or go on", 30)
        before = self.wait(lambda: (lambda n: n if n >= 2 else False)(self.uploaded_parts(upload_id)), "a second part stored", 60)
        self.driver.refresh()
        self.wait(lambda: self.finds("#upload-form"), "the page after the reload")
        self.throttle()
        self.find("#upload-file").send_keys(self.resumable)
        note = self.find("#upload-resume").text
        ok("only the missing parts" in note, f"no resume offered after the reload: {note!r}")
        self.find("#upload-name").clear()
        self.find("#upload-name").send_keys("resumed-upload")
        first = []
        self.find("#upload-submit").click()
        deadline = time.time() + 120
        while time.time() < deadline and not self.finds("#upload-done") and not self.finds("#upload-refused"):
            value = float(self.find("#upload-progress").get_attribute("value"))
            if value > 0 and not first:
                first.append(value)
            time.sleep(0.02)
        ok(self.finds("#upload-done"), f"the resumed upload did not finish: {self.find('#upload-result').text}")
        ok(first and first[0] >= 100 * before * self.part_size / os.path.getsize(self.resumable) - 0.5,
           f"the resumed upload started from {first} %, not from the {before} parts already stored")
        _, _, listed = http("GET", "/api/vm_images?q=resumed-upload", self.admin_token)
        image = listed["items"][0]
        with open(self.resumable, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
        ok(image["sha256"] == digest, "the resumed image differs from the file")
        print(f"  {before} of {-(-os.path.getsize(self.resumable) // self.part_size)} parts were stored before the reload; the rest followed")
        self.screenshot("images-after-resumed-upload")

    def hostile_upload(self):
        self.find("#upload-file").send_keys(self.hostile)
        self.find("#upload-name").clear()
        self.find("#upload-name").send_keys("hostile")
        self.find("#upload-submit").click()
        self.wait(lambda: self.finds("#upload-refused"), "the hostile image's refusal", 60)
        text = self.find("#upload-refused").text
        ok(self.finds("#upload-refused .violations li"), f"the refusal lists no reasons: {text!r}")
        ok("backing" in text.lower(), f"the refusal does not name the backing file: {text!r}")
        figures = self.find("#upload-figures").text
        ok(figures == "The image was refused:", f"the progress line still says {figures!r} after the refusal")
        self.screenshot("hostile-image-refused")
        ok(not any(row.get_attribute("data-name") == "hostile" for row in self.finds("#collection tbody tr")),
           "the hostile image appears in the collection")

    def defaults(self):
        # A second image over the API, so there are two to order.
        status, _, session = http("POST", "/api/vm_images/upload/sign", self.admin_token,
                                  {"file_name": "second-image.qcow2", "file_size": os.path.getsize(self.small), "name": "second-image"})
        ok(status == 201, f"sign: {status} {session}")
        with open(self.small, "rb") as handle:
            data = handle.read()
        for part in session["parts"]:
            start = (part["part_number"] - 1) * session["part_size"]
            request = urllib.request.Request(part["url"], data=data[start:start + part["size"]], method="PUT", headers=part.get("headers") or {})
            urllib.request.urlopen(request).read()
        status, _, body = http("POST", "/api/vm_images/upload/complete", self.admin_token, {"upload_id": session["upload_id"]})
        ok(status == 201, f"complete: {status} {body}")
        self.open("/console/images", "#collection table")
        for name in ["console-64mib", "second-image"]:
            row = next(r for r in self.finds("#collection tbody tr") if r.get_attribute("data-name") == name)
            row.find_element(By.CSS_SELECTOR, ".make-default").click()
            self.wait(lambda: name in self.texts("#default-list li .name"), f"{name} among the defaults")
        order = lambda: self.texts("#default-list li .name")
        ok(order() == ["console-64mib", "second-image"], f"defaults: {order()}")
        # Reorder by keyboard: focus the second image's "up" button and press Enter.
        up = self.finds("#default-list li")[1].find_element(By.CSS_SELECTOR, ".move-up")
        self.driver.execute_script("arguments[0].focus()", up)
        up.send_keys("\n")
        self.wait(lambda: order() == ["second-image", "console-64mib"], "the new order")
        _, _, stored = http("GET", f"/api/organizations/{self.org}/default_images", self.admin_token)
        ok([i["name"] for i in stored["items"]] == ["second-image", "console-64mib"], f"stored order: {stored}")
        self.screenshot("images-defaults-reordered")
        self.image_id = next(i["id"] for i in stored["items"] if i["name"] == "console-64mib")
        self.open(f"/console/image?id={self.image_id}", "#versions table")
        self.check_page("image")
        description = self.find("#metadata-form textarea")
        description.clear()
        description.send_keys("Debian test image, edited in the console")
        self.find("#metadata-form button[type=submit]").click()
        self.wait(lambda: "Metadata saved" in self.find("#toasts").text, "the metadata to be saved")
        _, _, stored = http("GET", f"/api/vm_images/{self.image_id}", self.admin_token)
        ok(stored["description"] == "Debian test image, edited in the console", f"description: {stored.get('description')!r}")
        self.screenshot("image-page")

    def paged_collection(self):
        """The console lists a collection whole, however many pages: its pager (app.js's apiAll), one image a page."""
        self.open("/console/images", "#collection table")
        _, _, listed = http("GET", "/api/vm_images?limit=500", self.admin_token)
        expected = sorted(i["id"] for i in listed["items"])
        ok(len(expected) >= 3, f"too few images to page through: {expected}")
        script = """
            const done = arguments[arguments.length - 1];
            import('/console/assets/app.js').then((app) => app.apiAll('/api/vm_images', 1))
              .then((list) => done(list.items.map((image) => image.id)), (error) => done('error: ' + error));
        """
        paged = self.driver.execute_async_script(script)
        ok(isinstance(paged, list) and sorted(paged) == expected, f"paging one at a time gave {paged}, the API lists {expected}")
        ok(self.find("#collection [role=status]").text.endswith(f"of {len(expected)} images"), "the collection's count")

    def forged_request(self):
        self.open("/console/images", "#collection table")
        forged = self.browser_fetch("PUT", f"/api/organizations/{self.org}/default_images", {"image_ids": []}, None)
        ok(forged["status"] == 403 and "csrf_failed" in forged["body"], f"a request without the CSRF token was not refused: {forged}")
        wrong = self.browser_fetch("PUT", f"/api/organizations/{self.org}/default_images", {"image_ids": []}, "forged-token")
        ok(wrong["status"] == 403 and "csrf_failed" in wrong["body"], f"a wrong CSRF token was not refused: {wrong}")
        _, _, stored = http("GET", f"/api/organizations/{self.org}/default_images", self.admin_token)
        ok(len(stored["items"]) == 2, "the forged request changed the defaults")
        # The same cookie from another site's form: SameSite=Strict keeps the browser from sending it at all, and
        # without the token the server refuses it anyway (checked above).

    def build_monitor(self):
        # The builder introduces itself (no task yet): the trigger form offers its roles.
        status, _, _ = http("POST", "/api/vm-build/tasks/claim", self.builder, {"builder": {
            "name": "console-test", "version": "test", "device_types": ["vm"], "roles": ["harden_ssh", "web-testing"]}, "wait": 0})
        ok(status == 204, f"an idle claim answered {status}")
        status, _, template = http("POST", f"/api/organizations/{self.org}/build-templates", self.admin_token, {
            "name": "weekly-web", "base_image_id": self.image_id, "follow_latest": True, "schedule": "0 4 * * 1", "time_zone": "Europe/Berlin"})
        ok(status == 201, f"template: {status} {template}")
        self.open("/console/builds", "#trigger-form")
        ok(self.finds("#role-web-testing"), "the trigger form does not offer the builder's roles")
        templates = self.find("#templates").text
        ok("weekly-web" in templates and "0 4 * * 1 (Europe/Berlin)" in templates, f"the template is not listed: {templates!r}")
        self.find("#role-web-testing").click()
        self.wait(lambda: self.find("#live").text == "live", "the event stream")
        self.check_page("builds")
        Select(self.find("#trigger-image")).select_by_value(self.image_id)
        self.find("#flag-harden_ssh").click()
        self.find("#trigger-vm-name").send_keys("console-vm")
        self.find("#trigger-form button[type=submit]").click()
        self.wait(lambda: self.finds("#monitor tbody tr[data-status=queued]"), "the new task's row")
        row = self.find("#monitor tbody tr[data-status=queued]")
        self.task_id = row.get_attribute("data-task-id")
        self.driver.execute_script("window.__sameDocument = 'yes'")
        status, _, claimed = http("POST", "/api/vm-build/tasks/claim", self.builder,
                                  {"builder": {"name": "console-test", "version": "test", "device_types": ["vm"],
                                               "roles": ["harden_ssh", "web-testing"]}, "wait": 5})
        ok(status == 201 and claimed["task"]["id"] == self.task_id, f"claim: {status} {claimed}")
        self.lease = claimed["lease"]
        row_of = lambda: self.find(f'#monitor tbody tr[data-task-id="{self.task_id}"]')
        for phase, progress in [("preparation", 10), ("customization", 40), ("finalization", 80)]:
            self.report({"event": "phase", "phase": phase, "progress": progress})
            self.wait(lambda: row_of().get_attribute("data-phase") == phase and row_of().get_attribute("data-status") == "running",
                      f"the row to show {phase}")
            ok(self.driver.execute_script("return window.__sameDocument") == "yes", "the page was reloaded")
            if phase == "customization":
                self.screenshot("build-monitor-running")

    def report(self, fields):
        body = {"task_id": self.task_id, "attempt": self.lease["attempt"], "lease_token": self.lease["token"], **fields}
        status, _, reply = http("POST", "/api/vm-build/task-status", self.builder, body)
        ok(status == 200, f"task-status {fields}: {status} {reply}")

    def log_lines(self, file, sequence, lines):
        body = {"task_id": self.task_id, "attempt": self.lease["attempt"], "lease_token": self.lease["token"], "file": file,
                "sequence": sequence, "content": "".join(line + "\n" for line in lines)}
        status, _, reply = http("POST", "/api/vm-build/task-logs", self.builder, body)
        ok(status in (200, 201), f"task-logs: {status} {reply}")

    def in_use_removal(self):
        self.open("/console/images", "#collection table")
        row = next(r for r in self.finds("#collection tbody tr") if r.get_attribute("data-name") == "console-64mib")
        row.find_element(By.CSS_SELECTOR, "button.danger").click()
        self.driver.switch_to.alert.accept()
        self.wait(lambda: "image_in_use" in self.find("#collection").text, "the in-use refusal")
        ok("build" in self.find("#collection .error").text.lower(), f"the refusal does not say what uses the image: {self.find('#collection .error').text!r}")
        self.screenshot("image-in-use-refused")

    def settings_secret(self):
        self.open("/console/settings", "#settings-form")
        secret = "nb-setup-key-" + os.urandom(6).hex()
        ok(self.find("#vpn_config\\.setup_key-state").text == "not set", "a setup key shows as set before one was given")
        self.find("[data-path='branding.motd']").send_keys("Welcome to an ARROW image")
        self.find("#vpn_config\\.setup_key").send_keys(secret)
        self.find("#settings-form button[type=submit]").click()
        self.wait(lambda: "Settings saved" in self.find("#toasts").text, "the settings to be saved")
        self.open("/console/settings", "#settings-form")
        ok(self.find("#vpn_config\\.setup_key-state").text == "set", "the saved setup key does not show as set")
        ok(secret not in self.driver.page_source and self.find("#vpn_config\\.setup_key").get_attribute("value") == "",
           "the setup key is echoed back to the page")
        ok(self.find("[data-path='branding.motd']").get_attribute("value") == "Welcome to an ARROW image", "the MOTD was not kept")
        status, _, view = http("GET", f"/api/organizations/{self.org}/client-config", self.admin_token)
        ok("vpn_config.setup_key" in view["secrets_set"] and secret not in json.dumps(view), f"client-config: {view}")

    def webhooks(self):
        self.open("/console/settings", "#webhook-form")
        # A private address is refused with its code, and nothing is registered.
        self.find("#webhook-url").send_keys("http://169.254.169.254/latest/meta-data/")
        self.find("#webhook-form button[type=submit]").click()
        self.wait(lambda: "webhook_private_address" in self.find("#webhook-message").text, "the private address to be refused")
        url = "https://hooks.example.org/arrow-" + os.urandom(4).hex()
        self.find("#webhook-url").clear()
        self.find("#webhook-url").send_keys(url)
        self.find("#webhook-event-template\\.settled").click()
        self.find("#webhook-event-build\\.failed").click()
        self.find("#webhook-form button[type=submit]").click()
        self.wait(lambda: self.finds("#webhook-secret-value"), "the signing secret to be shown")
        secret = self.find("#webhook-secret-value").text
        ok(secret.startswith("whsec_") and len(secret) > 40, f"the secret shown: {secret!r}")
        _, _, listed = http("GET", f"/api/organizations/{self.org}/webhooks", self.admin_token)
        ok([(h["url"], sorted(h["events"])) for h in listed["items"]] == [(url, ["build.failed", "template.settled"])], f"webhooks: {listed}")
        row = self.find("#webhook-list tbody tr")
        ok(url in row.text and "template.settled" in row.text, f"the listed webhook: {row.text!r}")
        self.screenshot("organization-webhook-registered")
        self.open("/console/settings", "#webhook-list table")
        self.check_page("settings with webhooks")
        ok(secret not in self.driver.page_source, "the signing secret is shown again after a reload")
        self.find("#webhook-list tbody tr button.danger").click()
        self.wait(lambda: "No webhooks." in self.find("#webhook-list").text, "the webhook to be removed")
        _, _, listed = http("GET", f"/api/organizations/{self.org}/webhooks", self.admin_token)
        ok(listed["items"] == [], f"webhooks after removal: {listed}")

    def live_logs(self):
        self.open(f"/console/task?id={self.task_id}", "#logs")
        self.driver.execute_script("window.__sameDocument = 'yes'")
        self.log_lines("ansible", 0, ["PLAY [image] ***", "TASK [harden_ssh : Disable password login] ***"])
        self.wait(lambda: len(self.finds("#log-ansible-lines li")) == 2, "the first log lines")
        self.log_lines("ansible", 1, ["fatal: [image]: FAILED! => {\"msg\": \"sshd_config: no such file\"}"])
        self.wait(lambda: len(self.finds("#log-ansible-lines li")) == 3, "a line appended live")
        ok("fatal" in self.find("#ansible-L3").text, "line 3 is not the new one")
        self.check_page("task")
        self.screenshot("task-logs-live")
        self.report({"event": "failed", "error_code": "ansible_failed", "message": "The role harden_ssh failed"})
        self.wait(lambda: self.find("#task-status").text == "failed", "the task's failure on its page")
        self.wait(lambda: self.finds("#failure-line"), "the link to the failing log line")
        link = self.find("#failure-line")
        ok(link.get_attribute("href").endswith("#ansible-L3"), f"the failure links to {link.get_attribute('href')}")
        ok("ansible_failed" in self.find("#failure").text, "the failure code is not shown")
        ok(self.finds("#retry"), "no retry button on a failed task")
        ok(self.driver.execute_script("return window.__sameDocument") == "yes", "the task page was reloaded")
        link.click()
        self.screenshot("task-failed")

    def other_pages(self):
        self.open("/console/settings", "#settings-form")
        self.check_page("settings")
        self.screenshot("organization-settings")
        self.open("/console/operations", "#metrics")
        failures = self.find("#failures").text
        ok("ansible_failed" in failures and "harden_ssh : Disable password login" in failures, f"the failure report: {failures!r}")
        self.wait(lambda: self.finds("#metrics svg.chart") or "no data" in self.find("#metrics").text, "the charts")
        self.check_page("operations")
        self.screenshot("operations")
        # A phone's width: the collection still fits (tables scroll inside their section).
        self.driver.set_window_size(390, 844)
        self.open("/console/images", "#collection table")
        self.check_page("images at phone width")
        self.screenshot("images-phone-width")
        self.driver.set_window_size(1280, 1000)

    def sign_out(self, account):
        cookie = self.session_cookie()["value"]
        self.find("#sign-out").click()
        self.wait(lambda: "/console/login" in self.driver.current_url, f"the sign-in page after {account} signs out")
        status, _, body = http("GET", "/api/auth/session", headers={"Cookie": f"arrow_session={cookie}"})
        ok(status == 401, f"the signed-out session still works: {status} {body}")

    def member_view(self):
        self.sign_in("member@console.test")
        ok(not self.finds("#upload-form"), "a member sees the upload form")
        ok(not self.finds(".make-default") and not self.finds(".danger") and not self.finds(".move-up"), "a member sees admin actions")
        nav = self.find("nav").text
        ok("Organization" not in nav, f"a member's navigation offers organization settings: {nav!r}")
        self.screenshot("member-images")
        self.open("/console/builds", "#monitor")
        ok(not self.finds("#trigger-form"), "a member sees the build trigger form")
        csrf = self.driver.execute_async_script(
            "fetch('/api/auth/session').then(r => r.json()).then(s => arguments[0](s.csrf_token))")
        attempt = self.browser_fetch("PUT", f"/api/organizations/{self.org}/default_images", {"image_ids": []}, csrf)
        ok(attempt["status"] == 403 and "missing_permission" in attempt["body"], f"a member changed the defaults: {attempt}")
        self.sign_out("the member")

    def run(self):
        steps = [("Content-Security-Policy on every page and script", self.content_security_policy),
                 ("sign in", self.sign_in_as_admin), ("upload a 64 MiB image with a progress bar", self.upload),
                 ("an interrupted upload resumes after a lost connection and a reload", self.resumed_upload),
                 ("a hostile image refused with its reasons", self.hostile_upload),
                 ("set and reorder default images", self.defaults),
                 ("a collection is listed whole, page by page", self.paged_collection),
                 ("a forged request without the CSRF token is refused", self.forged_request),
                 ("trigger a build; its row changes phase live", self.build_monitor),
                 ("an image in use is not removed, and says why", self.in_use_removal),
                 ("log lines appended live; the failure links to its line", self.live_logs),
                 ("organization settings: a secret is set, never shown", self.settings_secret),
                 ("webhooks: a private address refused, one registered (its secret shown once), removed", self.webhooks),
                 ("settings, operations, phone width", self.other_pages), ("sign out", lambda: self.sign_out("the admin")),
                 ("a member sees no admin actions", self.member_view)]
        failures = 0
        for name, step in steps:
            started = time.time()
            try:
                step()
                print(f"ok   {name} ({time.time() - started:.1f}s)")
            except Exception:
                failures += 1
                print(f"FAIL {name}\n{traceback.format_exc()}")
                try:
                    self.screenshot(f"FAILED-{re.sub(r'[^a-z0-9]+', '-', name.lower())[:40]}")
                except Exception:
                    pass
                break
        return failures


def main():
    os.makedirs(SHOTS, exist_ok=True)
    console = Console()
    failures = 1
    try:
        console.start_server()
        status, _, login = http("POST", "/api/auth/login", body={"email": "admin@console.test", "password": PASSWORD})
        ok(status == 200, f"admin login: {status} {login}")
        console.admin_token = login["token"]
        console.make_images()
        console.start_browser()
        failures = console.run()
    finally:
        if console.driver:
            console.driver.quit()
        if console.server:
            # A graceful stop must not wait for the console's open event streams.
            started = time.time()
            console.server.terminate()
            try:
                console.server.wait(15)
                print(f"server stopped {time.time() - started:.1f}s after SIGTERM")
            except subprocess.TimeoutExpired:
                console.server.kill()
                print("FAIL the server did not stop within 15 s of SIGTERM (open event streams held it)")
                failures = failures + 1 if isinstance(failures, int) else 1
    print(f"screenshots in {SHOTS}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
