#!/usr/bin/env python3
"""The Quick Start in a real browser (Debian's headless Chromium, driven by selenium) against a
running stack with real LXD: log in, add a direct-API cluster and test it, browse to the offline
test egg, deploy it with a variable, watch the deployment page reach `completed` live, check
cloud-init's work inside the container. Also: axe-core finds no serious or critical violation on
any page, the network log shows only the gateway's host, pages weigh at most 150 KB, a viewer key
sees no deploy button and gets 403 when it tries, a missing CSRF token is refused.

Needs ICESHELVES_BIN_DIR, ICESHELVES_TEST_WEB_AMQP_URL (a vhost of its own) and the
scripts/lxd-env variables. It starts egg-catalog, cloud-init-renderer, lxd-deployer and
api-gateway itself, and prints the folder that holds the screenshots.
"""
import json, os, random, shutil, signal, subprocess, sys, tempfile, time, traceback, urllib.request, uuid

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from axe_selenium_python import Axe

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ["ICESHELVES_BIN_DIR"]
AMQP = os.environ["ICESHELVES_TEST_WEB_AMQP_URL"]
SOCKET = os.environ["ICESHELVES_TEST_LXD_SOCKET"]
SHOTS = os.environ.get("ICESHELVES_TEST_SCREENSHOTS") or tempfile.mkdtemp(prefix="iceshelves-screens-")
os.makedirs(SHOTS, exist_ok=True)
DESKTOP, PHONE = (1280, 900), (375, 812)
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


class Stack:
    """The four services on loopback, with data folders of their own."""

    def __init__(self):
        self.data = tempfile.mkdtemp(prefix="iceshelves-web-")
        self.port = random.randint(50000, 54999)
        self.base = f"http://127.0.0.1:{self.port}/iceshelves"
        env = dict(os.environ, ICESHELVES_AMQP_URL=AMQP, ICESHELVES_LOG_LEVEL="warning", ICESHELVES_ALLOWED_HOSTS="loopback")
        self.procs = []
        logs = open(os.path.join(self.data, "services.log"), "ab")
        for args in (
            ["egg-catalog", "--metrics-port=-1", "--eggs-dir", ROOT + "/eggs", "--data-dir", self.data + "/catalog"],
            ["cloud-init-renderer", "--metrics-port=-1"],
            ["lxd-deployer", "--metrics-port=-1", "--cloud-init-timeout", "180"],
            ["api-gateway", "--metrics-port=-1", "--http-port", str(self.port), "--data-dir", self.data + "/gateway"],
        ):
            self.procs.append(subprocess.Popen([os.path.join(BIN, args[0])] + args[1:], env=env, stdout=logs, stderr=logs))
        key_file = self.data + "/gateway/admin.key"
        for _ in range(300):
            if os.path.exists(key_file) and self.get("/healthz", None)[0] == 200:
                break
            time.sleep(0.1)
        self.admin = open(key_file).read().strip()
        for _ in range(100):  # every service answers its ping
            status, body = self.get("/api/services", self.admin)
            if status == 200 and body.get("healthy"):
                break
            time.sleep(0.3)

    def get(self, path, key, method="GET", body=None):
        req = urllib.request.Request(self.base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
        req.add_header("Content-Type", "application/json")
        if key:
            req.add_header("Authorization", "Bearer " + key)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")
        except Exception:
            return 0, {}

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def browser():
    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
              "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-default-apps", "--disable-extensions", "--metrics-recording-only", "--no-default-browser-check"):
        options.add_argument(a)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(service=service, options=options)


class Walk:
    def __init__(self, driver, stack):
        self.d, self.s, self.n = driver, stack, 0
        self.wait = WebDriverWait(driver, 30)

    def go(self, path):
        self.d.get(self.s.base + path)

    def shot(self, name):
        """Screenshots at desktop and phone widths, axe at both, and the page's weight."""
        for label, (w, h) in (("desktop", DESKTOP), ("phone", PHONE)):
            self.d.set_window_size(w, h)
            time.sleep(0.2)
            self.n += 1
            path = os.path.join(SHOTS, f"{self.n:02d}-{name}-{label}.png")
            self.d.save_screenshot(path)
            axe = Axe(self.d)
            axe.inject()
            results = axe.run()
            bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
            check(not bad, f"axe on {name} ({label}): no serious or critical violation {[(v['id'], v['help']) for v in bad]}")
            overflow = self.d.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
            if label == "phone":
                check(overflow <= 1, f"{name} fits a 375 px screen (overflow {overflow} px)")
        self.d.set_window_size(*DESKTOP)
        weight = self.d.execute_script(
            "var n = performance.getEntriesByType('navigation')[0]; var t = n ? n.decodedBodySize : 0;"
            "performance.getEntriesByType('resource').forEach(function (r) { t += r.decodedBodySize; }); return t;")
        check(weight <= 150 * 1024, f"{name} weighs {weight} bytes (at most 150 KB)")

    def csrf(self):
        return self.d.find_element(By.NAME, "_csrf").get_attribute("value")

    def post_js(self, path, fields):
        """A POST from the page itself (same origin, with its cookie)."""
        return self.d.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {method: 'POST', credentials: 'same-origin', redirect: 'manual',"
            " headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams(arguments[1])})"
            ".then(function (r) { done(r.status); }).catch(function (e) { done(String(e)); });",
            "/iceshelves" + path, fields)


def lxd_file(name, path):
    out = subprocess.run(["curl", "-s", "--unix-socket", SOCKET, f"http://lxd/1.0/instances/{name}/files?path={path}"],
                         capture_output=True, timeout=30)
    return out.stdout.decode(errors="replace")


def main():
    print(f"screenshots: {SHOTS}", flush=True)
    stack = Stack()
    driver = browser()
    name = f"issue-13-web-{uuid.uuid4().hex[:6]}"
    try:
        w = Walk(driver, stack)
        # 1. log in
        w.go("/")
        check("/iceshelves/login" in driver.current_url, "the dashboard sends a visitor to the login page")
        check("admin.key" in driver.page_source, "the login page says where a fresh install keeps its admin key")
        w.shot("login")
        driver.find_element(By.ID, "key").send_keys(stack.admin)
        driver.find_element(By.CSS_SELECTOR, "form[action='/iceshelves/login'] button").click()
        w.wait.until(lambda d: d.find_elements(By.ID, "counts"))
        check(stack.admin not in driver.current_url, "the key is not in the URL")
        cookies = {c["name"]: c for c in driver.get_cookies()}
        check(cookies.get("iceshelves_session", {}).get("httpOnly") is True, "the session cookie is HttpOnly")
        check(stack.admin not in json.dumps(driver.get_cookies()), "the key is not in a cookie")
        w.shot("dashboard")

        # 2. add a direct-API cluster and test it
        w.go("/clusters/new?method=direct-api")
        driver.find_element(By.ID, "c-name").send_keys("local-https")
        driver.find_element(By.ID, "c-endpoint").send_keys(os.environ["ICESHELVES_TEST_LXD_HTTPS_URL"])
        for field, env in (("c-cert", "ICESHELVES_TEST_LXD_CLIENT_CERT"), ("c-key", "ICESHELVES_TEST_LXD_CLIENT_KEY"),
                           ("c-servercert", "ICESHELVES_TEST_LXD_SERVER_CERT")):
            driver.execute_script("document.getElementById(arguments[0]).value = arguments[1];", field, open(os.environ[env]).read())
        w.shot("cluster-add")
        driver.find_element(By.CSS_SELECTOR, "form[action='/iceshelves/clusters/new'][method='post'] button[type=submit]").click()
        w.wait.until(lambda d: d.find_elements(By.ID, "test-cluster"))
        driver.find_element(By.ID, "test-cluster").click()
        w.wait.until(lambda d: d.find_elements(By.ID, "test-result"))
        check(driver.find_element(By.ID, "test-result").text.find("active") >= 0, "the connection test shows active")
        w.shot("cluster-tested")

        # 3. browse to the offline test egg
        w.go("/eggs")
        w.shot("eggs")
        driver.find_element(By.LINK_TEXT, "debian-hello").click()
        w.wait.until(lambda d: d.find_elements(By.ID, "deploy-egg"))
        check(len(driver.find_elements(By.CSS_SELECTOR, "pre .y-k")) > 0, "cloud-init is highlighted")
        check("Content hash" in driver.page_source, "the egg page shows the content hash")
        w.shot("egg")

        # 4. deploy it with a variable, after a dry run
        driver.find_element(By.ID, "deploy-egg").click()
        w.wait.until(lambda d: d.find_elements(By.ID, "d-name"))
        Select(driver.find_element(By.ID, "d-cluster")).select_by_visible_text("local-https (active)")
        driver.find_element(By.ID, "d-name").send_keys(name)
        greeting = driver.find_element(By.ID, "v-greeting")
        greeting.clear()
        greeting.send_keys("hello from the browser")
        driver.find_element(By.ID, "dry-run").click()
        w.wait.until(lambda d: d.find_elements(By.ID, "preview"))
        check("hello from the browser" in driver.page_source, "the dry run shows the rendered user-data")
        w.shot("deploy-preview")
        driver.find_element(By.ID, "deploy-submit").click()

        # 5. the deployment page reaches completed live, without reloading
        w.wait.until(lambda d: d.find_elements(By.ID, "dep-live"))
        driver.execute_script("window.__notReloaded = true;")
        w.shot("deployment-running")
        WebDriverWait(driver, 300).until(lambda d: d.find_element(By.ID, "dep-status").text in ("completed", "failed", "cancelled", "timeout"))
        check(driver.find_element(By.ID, "dep-status").text == "completed", "the deployment completed")
        check(driver.execute_script("return window.__notReloaded === true;"), "the page was not reloaded")
        check(driver.find_element(By.ID, "dep-progress").get_attribute("value") in ("100", "100.0"), "the progress bar is full")
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#dep-info dt"))
        check("cloud-init" in driver.find_element(By.ID, "dep-log").text, "the log shows the cloud-init step")
        cancel = driver.find_element(By.CSS_SELECTOR, "form[action$='/cancel'] button")
        WebDriverWait(driver, 10).until(lambda d: not cancel.is_displayed())
        check(not cancel.is_displayed(), "a completed deployment offers no Cancel")
        driver.execute_script("window.scrollTo(0, 0);")
        w.shot("deployment-completed")

        # 6. cloud-init's work inside the container
        check(lxd_file(name, "/etc/iceshelves/hello.txt") == "hello from the browser", "the egg's file holds the variable")
        check("ok" in lxd_file(name, "/var/lib/iceshelves-hello.done"), "cloud-init ran the egg's command")

        # the deployments list
        w.go("/deployments?status=completed")
        w.shot("deployments")

        # a missing CSRF token is refused
        code = w.post_js("/clusters/1/test", {})
        check(code == 403, f"a form without its CSRF token gets 403 (got {code})")

        # clean up through the page
        driver.get(driver.current_url)
        w.go("/deployments")
        driver.find_element(By.LINK_TEXT, name).click()
        w.wait.until(lambda d: d.find_elements(By.ID, "dep-live"))
        driver.find_element(By.CSS_SELECTOR, "form[action$='/cleanup'] button").click()
        driver.switch_to.alert.accept()
        gone = False
        for _ in range(120):  # the page answers once the deployer has removed it
            out = subprocess.run(["curl", "-s", "--unix-socket", SOCKET, f"http://lxd/1.0/instances/{name}"], capture_output=True).stdout
            if b'"error_code":404' in out:
                gone = True
                break
            time.sleep(0.5)
        check(gone, "cleanup removed the instance")

        # a viewer sees no deploy button and gets 403 when trying
        status, created = stack.get("/api/keys", stack.admin, "POST", {"name": "web-viewer", "role": "viewer"})
        viewer = created.get("key") or created.get("data", {}).get("key")
        driver.delete_all_cookies()
        w.go("/login")
        driver.find_element(By.ID, "key").send_keys(viewer)
        driver.find_element(By.CSS_SELECTOR, "form[action='/iceshelves/login'] button").click()
        w.wait.until(lambda d: d.find_elements(By.ID, "counts"))
        check(not driver.find_elements(By.ID, "nav-deploy"), "a viewer has no Deploy link")
        w.go("/eggs/debian-hello")
        check(not driver.find_elements(By.ID, "deploy-egg"), "a viewer has no deploy button")
        w.shot("viewer-egg")
        token = w.csrf()
        code = w.post_js("/deploy", {"_csrf": token, "egg_id": "debian-hello", "cluster_id": "1", "instance_name": name + "-v", "action": "deploy"})
        check(code == 403, f"a viewer's deploy gets 403 (got {code})")

        # offline: every request went to the gateway
        hosts = set()
        for entry in driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                url = msg["params"]["request"]["url"]
                if not url.startswith(("data:", "about:", "blob:")):
                    hosts.add(url.split("/")[2])
        check(hosts == {f"127.0.0.1:{stack.port}"}, f"the browser asked only the gateway: {sorted(hosts)}")
    except Exception:
        traceback.print_exc()
        failures.append("the walk stopped with an exception")
        try:
            driver.save_screenshot(os.path.join(SHOTS, "zz-failure.png"))
        except Exception:
            pass
    finally:
        driver.quit()
        stack.stop()
        # Whatever the walk left (it cleans up through the page when it gets that far).
        subprocess.run(["curl", "-s", "-X", "PUT", "-d", '{"action":"stop","force":true}', "--unix-socket", SOCKET,
                        f"http://lxd/1.0/instances/{name}/state?wait=1"], capture_output=True)
        time.sleep(3)
        subprocess.run(["curl", "-s", "-X", "DELETE", "--unix-socket", SOCKET, f"http://lxd/1.0/instances/{name}"], capture_output=True)
    print(f"screenshots: {SHOTS}")
    print(f"{len(failures)} failed" if failures else "browser quick start passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
