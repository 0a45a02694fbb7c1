#!/usr/bin/env python3
"""The web console in a real browser: headless Chromium (Debian's chromium and chromium-driver)
driven over WebDriver by Selenium against a real `kanri serve` (SQLite, or PostgreSQL when
KANRI_TEST_DATABASE_URL is set).

- sign up -> workspace -> project -> tasks -> they are on the board;
- a title that is markup (<img src=x onerror=...>) shows as text and runs nothing;
- two members in two browsers: a card created by one appears for the other within a second,
  and what happens while the other's network is down is there once it returns;
- a card dragged to Done with the mouse and one moved with the keyboard keep their column and
  order across a reload;
- the invitation email's link makes the invited person a member;
- the reset email's link sets a new password, and the old one stops working;
- axe-core (vendored, tests/browser/vendor) finds no critical or serious violation on the
  sign-in page, the board, the task panel and the admin pages; no page logs a console error;
- the operator signs in with the secret key, retries a dead job, creates a key (shown once,
  and it works) and revokes one (it stops working); a member who is not the operator gets the
  same 404 page as an unknown path.

Usage: tests/browser/console.py [path/to/kanri]   (screenshots go to $KANRI_SCREENSHOTS if set)
"""
import base64
import email
import glob
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, ".ci"))
import kanri_server  # noqa: E402

AXE = open(os.path.join(HERE, "vendor", "axe.min.js")).read()
XSS = "<img src=x onerror=alert(1)>"
PASSWORD = "a long enough passphrase"
SHOTS = os.environ.get("KANRI_SCREENSHOTS")


def browser(width=1280, height=800):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--disable-background-networking",
                "--disable-component-update", "--no-first-run"]:
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if width < 500:
        # Desktop windows have a minimum width; a phone's screen is emulated instead.
        opts.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 3, "touch": True}})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def wait(driver, what, timeout=10, message=""):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: what(d))
    except TimeoutException:
        shot(driver, "failure")
        raise AssertionError(f"timed out waiting: {message} (at {driver.current_url})")


def shot(driver, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def console_errors(driver):
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def assert_no_console_errors(driver, where):
    errors = console_errors(driver)
    assert not errors, f"console errors on {where}: {errors}"


def axe(driver, where, context="document"):
    result = driver.execute_async_script(
        AXE + "\nconst done = arguments[arguments.length - 1];"
        f"axe.run({context}, {{resultTypes: ['violations']}}).then(r => done(r.violations), e => done(String(e)));"
    )
    assert isinstance(result, list), f"axe failed on {where}: {result}"
    bad = [(v["id"], v["impact"], len(v["nodes"])) for v in result if v["impact"] in ("critical", "serious")]
    assert not bad, f"accessibility violations on {where}: {bad}"
    print(f"axe on {where}: {len(result)} minor/moderate, 0 serious or critical")


def fill(driver, label_text, value):
    label = driver.find_element(By.XPATH, f"//label[normalize-space()='{label_text}']")
    field = driver.find_element(By.ID, label.get_attribute("for"))
    field.clear()
    field.send_keys(value)
    return field


def submit(driver, text):
    driver.find_element(By.XPATH, f"//button[normalize-space()='{text}']").click()


def sign_up(driver, base, name, address, path="/app/sign-up"):
    driver.get(base + path)
    wait(driver, lambda d: d.find_elements(By.XPATH, "//h1[normalize-space()='Create your account']"), message="sign-up page")
    fill(driver, "Name", name)
    fill(driver, "Email", address)
    fill(driver, "Password", PASSWORD)
    submit(driver, "Sign up")


def cards(driver, status):
    """The titles in a column, top to bottom (read in one go: the board redraws live)."""
    return driver.execute_script(
        "return [...document.querySelectorAll(`.column[data-status='${arguments[0]}'] li.card .title`)]"
        ".map(e => e.textContent)", status)


def has_card(title, status=None):
    def check(driver):
        statuses = [status] if status else ["TODO", "IN_PROGRESS", "DONE"]
        return any(title in cards(driver, s) for s in statuses)
    return check


def press(driver, css):
    """Focuses an element and presses Enter on the keyboard, as a keyboard user would."""
    driver.execute_script("arguments[0].focus()", driver.find_element(By.CSS_SELECTOR, css))
    ActionChains(driver).send_keys(Keys.ENTER).perform()


def add_task(driver, title):
    field = driver.find_element(By.CSS_SELECTOR, "input[name='title']")
    field.send_keys(title)
    field.send_keys(Keys.ENTER)
    wait(driver, has_card(title), message=f"card {title!r} on the board")


def mail_link(work, marker, to):
    """The first link containing `marker` in a mail sent to `to` (the file mail transport)."""
    deadline = time.time() + 20
    while time.time() < deadline:
        for path in sorted(glob.glob(os.path.join(work, "mail", "**", "*"), recursive=True)):
            if not os.path.isfile(path):
                continue
            message = email.message_from_binary_file(open(path, "rb"))
            if to not in (message.get("To") or ""):
                continue
            for part in message.walk():
                if part.get_content_type() != "text/plain":
                    continue
                text = part.get_payload(decode=True).decode()
                for word in text.split():
                    if marker in word:
                        return word.strip("<>()")
        time.sleep(0.2)
    raise AssertionError(f"no mail to {to} with {marker}")


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else kanri_server.default_binary()
    with kanri_server.running(binary, "console") as server:
        base = server.base
        a, b = browser(), browser()
        try:
            run(server, base, a, b)
        finally:
            a.quit()
            b.quit()
    print("console checked in Chromium")


def run(server, base, a, b):
    # Sign-in page: accessible, no errors.
    a.get(base + "/app/sign-in")
    wait(a, lambda d: d.find_elements(By.XPATH, "//h1[normalize-space()='Sign in']"), message="sign-in page")
    axe(a, "the sign-in page")
    assert_no_console_errors(a, "the sign-in page")
    assert a.get_cookies() == [] or all(c["httpOnly"] for c in a.get_cookies())

    # Sign up -> workspace -> project -> tasks.
    owner = "owner@example.com"
    sign_up(a, base, "Olga Owner", owner)
    wait(a, lambda d: d.find_elements(By.XPATH, "//h1[normalize-space()='Your workspaces']"), message="home")
    session = [c for c in a.get_cookies() if c["name"] == "kanri_session"]
    assert session and session[0]["httpOnly"] and session[0]["sameSite"] == "Strict", session
    assert a.execute_script("return document.cookie") == "", "no page script can read the session"
    fill(a, "Name", "Team")
    submit(a, "Create workspace")
    wait(a, lambda d: "/app/w/" in d.current_url and d.find_elements(By.XPATH, "//h2[normalize-space()='Projects']"), message="workspace page")
    workspace_url = a.current_url
    fill(a, "Name", "Launch")
    submit(a, "Create project")
    wait(a, lambda d: "/app/p/" in d.current_url and d.find_elements(By.CSS_SELECTOR, ".board"), message="board")
    board_url = a.current_url
    for title in ["First", "Second", "Third", XSS]:
        add_task(a, title)
    assert cards(a, "TODO") == ["First", "Second", "Third", XSS], cards(a, "TODO")

    # The markup title is text: no image element, no alert.
    assert not a.find_elements(By.CSS_SELECTOR, ".board img"), "the title became markup"
    try:
        a.switch_to.alert
        raise AssertionError("the title's script ran")
    except NoAlertPresentException:
        pass
    axe(a, "the board")
    assert_no_console_errors(a, "the board")
    shot(a, "board-desktop")

    # The task panel.
    a.find_element(By.XPATH, "//li[contains(@class,'card')]//button[normalize-space()='First']").click()
    wait(a, lambda d: d.find_elements(By.CSS_SELECTOR, ".panel textarea"), message="task panel")
    comment = a.find_element(By.CSS_SELECTOR, "textarea[aria-label='New comment']")
    comment.send_keys(f"Looks fine {XSS}")
    submit(a, "Comment")
    wait(a, lambda d: f"Looks fine {XSS}" in d.find_element(By.CSS_SELECTOR, ".comments").text, message="comment shown")
    axe(a, "the task panel", "document.querySelector('.panel')")
    shot(a, "task-panel")
    a.find_element(By.CSS_SELECTOR, ".panel .close").click()
    assert_no_console_errors(a, "the task panel")

    # Invite a second member; the link in the email brings them in.
    a.get(workspace_url + "/members")
    wait(a, lambda d: d.find_elements(By.XPATH, "//h2[normalize-space()='Invite someone']"), message="members page")
    fill(a, "Email", "bea@example.com")
    a.find_element(By.XPATH, "//label[normalize-space()='Role']/following-sibling::select/option[@value='ADMIN']").click()
    submit(a, "Send invitation")
    wait(a, lambda d: "Invitation sent" in d.page_source, message="invitation sent")
    link = mail_link(server.work, "/app/invitations/", "bea@example.com")
    b.get(link)
    wait(b, lambda d: d.find_elements(By.XPATH, "//a[normalize-space()='Sign up']"), message="invitation asks to sign in")
    b.find_element(By.XPATH, "//a[normalize-space()='Sign up']").click()
    wait(b, lambda d: d.find_elements(By.XPATH, "//h1[normalize-space()='Create your account']"), message="sign-up from invitation")
    fill(b, "Name", "Bea Member")
    fill(b, "Email", "bea@example.com")
    fill(b, "Password", PASSWORD)
    submit(b, "Sign up")
    wait(b, lambda d: d.find_elements(By.XPATH, "//button[normalize-space()='Accept']"), message="invitation page after sign-up")
    submit(b, "Accept")
    wait(b, lambda d: "/app/w/" in d.current_url, message="member of the workspace")

    # Live: what one member does shows up for the other within a second.
    a.get(board_url)
    b.get(board_url)
    wait(a, has_card("First"), message="board again")
    wait(b, has_card("First"), message="board for the second member")
    wait(b, lambda d: d.find_element(By.CSS_SELECTOR, ".live").text == "live", message="live stream")
    started = time.time()
    add_task(a, "Made by Olga")
    wait(b, has_card("Made by Olga"), timeout=5, message="the new card for the other member")
    latency = time.time() - started
    print(f"a card created in one browser appeared in the other after {latency * 1000:.0f} ms")
    assert latency <= 1.0, f"{latency:.2f} s"

    # Keyboard: move "First" right with its button; mouse: drag "Second" to Done.
    press(a, "button[aria-label='Move right: First']")
    wait(a, has_card("First", "IN_PROGRESS"), message="keyboard move")
    second = a.find_element(By.XPATH, "//li[contains(@class,'card')][.//button[normalize-space()='Second']]")
    done = a.find_element(By.CSS_SELECTOR, ".column[data-status='DONE']")
    ActionChains(a).click_and_hold(second).move_by_offset(10, 10).move_to_element(done).pause(0.1).release().perform()
    wait(a, has_card("Second", "DONE"), message="mouse drag to Done")
    press(a, "button[aria-label='Move up: Third']")
    wait(a, lambda d: cards(d, "TODO")[:1] == ["Third"], message="keyboard reorder")
    before = {s: cards(a, s) for s in ["TODO", "IN_PROGRESS", "DONE"]}
    a.refresh()
    wait(a, has_card("Second", "DONE"), message="board after reload")
    after = {s: cards(a, s) for s in ["TODO", "IN_PROGRESS", "DONE"]}
    assert after == before, f"{before} became {after} on reload"
    wait(b, lambda d: {s: cards(d, s) for s in before} == before, message="the other member sees the moves")

    # The other member's network drops; changes made meanwhile are there once it returns.
    b.execute_cdp_cmd("Network.enable", {})
    b.execute_cdp_cmd("Network.emulateNetworkConditions",
                      {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    time.sleep(1)
    add_task(a, "While Bea was offline")
    press(a, "button[aria-label='Move right: Third']")
    wait(a, has_card("Third", "IN_PROGRESS"), message="move while the other is offline")
    time.sleep(1)
    b.execute_cdp_cmd("Network.emulateNetworkConditions",
                      {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    wait(b, has_card("While Bea was offline"), timeout=20, message="missed card after reconnect")
    wait(b, has_card("Third", "IN_PROGRESS"), timeout=20, message="missed move after reconnect")
    b.get_log("browser")  # the dropped connection is logged; that is the point of the step

    # Phone-sized screen.
    phone = browser(390, 844)
    try:
        phone.get(base + "/app/sign-in")
        wait(phone, lambda d: d.find_elements(By.XPATH, "//h1[normalize-space()='Sign in']"), message="phone sign-in")
        fill(phone, "Email", owner)
        fill(phone, "Password", PASSWORD)
        submit(phone, "Sign in")
        wait(phone, lambda d: d.find_elements(By.XPATH, "//h1[normalize-space()='Your workspaces']"), message="phone home")
        phone.get(board_url)
        wait(phone, has_card("Made by Olga"), message="phone board")
        width = phone.execute_script("return document.documentElement.scrollWidth")
        wide = phone.execute_script(
            "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391 && !e.querySelector('*'))"
            ".slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))")
        assert width <= 390, f"the board is {width}px wide on a 390px screen: {wide}"
        shot(phone, "board-phone")
        assert_no_console_errors(phone, "the phone board")
    finally:
        phone.quit()

    # Password reset from the email link; the old password stops working.
    assert_no_console_errors(a, "the board after the moves")
    a.find_element(By.XPATH, "//button[normalize-space()='Sign out']").click()
    wait(a, lambda d: d.find_elements(By.XPATH, "//h1[normalize-space()='Sign in']"), message="signed out")
    a.get(base + "/app/forgot")
    wait(a, lambda d: d.find_elements(By.XPATH, "//h1[normalize-space()='Reset your password']"), message="forgot page")
    fill(a, "Email", owner)
    submit(a, "Send the link")
    wait(a, lambda d: "Check your email" in d.page_source, message="reset requested")
    a.get(mail_link(server.work, "/app/reset?token=", owner))
    new_password = "another long passphrase"
    fill(a, "New password", new_password)
    submit(a, "Set password")
    wait(a, lambda d: d.find_elements(By.XPATH, "//h1[normalize-space()='Sign in']"), message="back to sign-in")
    assert_no_console_errors(a, "the reset pages")
    fill(a, "Email", owner)
    fill(a, "Password", PASSWORD)
    submit(a, "Sign in")
    wait(a, lambda d: d.find_elements(By.CSS_SELECTOR, "[role='alert']"), message="old password refused")
    a.get_log("browser")  # the refused sign-in's 401 is expected
    fill(a, "Password", new_password)
    submit(a, "Sign in")
    wait(a, lambda d: d.find_elements(By.XPATH, "//h1[normalize-space()='Your workspaces']"), message="new password works")
    assert_no_console_errors(a, "home after the new sign-in")

    operator(server, base, a, b)


def status_of(base, path, key):
    req = urllib.request.Request(base + path, headers={"X-Api-Key": key})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status
    except urllib.error.HTTPError as e:
        return e.code


def dead_jobs(server):
    return kanri_server.call(server.base, "GET", "/v1/admin/jobs?state=dead",
                             headers={"X-Api-Key": server.secret_key})["data"]["items"]


def bury_an_identity_job(server):
    """A real dead job: the identity provider sends a well-signed user.created without an email
    address, which its job cannot apply (a fatal error, buried at once)."""
    body = json.dumps({"type": "user.created",
                       "data": {"id": "user_noemail", "email_addresses": [], "first_name": "No"}})
    msg_id, ts = "msg_console_dead", str(int(time.time()))
    key = base64.b64decode(kanri_server.IDENTITY_WEBHOOK_SECRET.removeprefix("whsec_"))
    sig = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.{body}".encode(), hashlib.sha256).digest()).decode()
    kanri_server.call(server.base, "POST", "/v1/webhooks/identity", json.loads(body), {
        "svix-id": msg_id, "svix-timestamp": ts, "svix-signature": f"v1,{sig}",
        "X-Api-Key": server.publishable_key})
    for _ in range(100):
        dead = dead_jobs(server)
        if dead:
            return dead[0]
        time.sleep(0.1)
    raise AssertionError("the identity job did not die")


def operator(server, base, a, b):
    dead = bury_an_identity_job(server)
    spare = kanri_server.call(base, "POST", "/v1/admin/keys", {"kind": "secret", "name": "ci bot"},
                              {"X-Api-Key": server.secret_key})["data"]
    assert status_of(base, "/v1/admin/users", spare["api_key"]) == 200

    # The operator signs in with the secret key (beside the member's own session).
    a.get(base + "/app/operator")
    wait(a, lambda d: d.find_elements(By.XPATH, "//h1[normalize-space()='Operator sign-in']"), message="operator sign-in")
    fill(a, "Secret key", server.secret_key)
    submit(a, "Sign in")
    wait(a, lambda d: d.find_elements(By.XPATH, "//h2[normalize-space()='Jobs by kind']"), message="admin jobs page")
    assert server.secret_key not in a.page_source
    assert all(c["httpOnly"] for c in a.get_cookies()), a.get_cookies()
    row = f"//tr[td[normalize-space()='{dead['kind']}']]"
    wait(a, lambda d: d.find_elements(By.XPATH, row + "//button[normalize-space()='Retry']"), message="the dead job listed")
    axe(a, "the admin jobs page")
    shot(a, "admin-jobs")

    # Retry it: it is queued and runs again (and, its event still unusable, dies again).
    a.find_element(By.XPATH, row + "//button[normalize-space()='Retry']").click()
    wait(a, lambda d: "Queued again" in d.find_element(By.ID, "toast").text, message="retry acknowledged")

    def ran_again(_):
        again = [j for j in dead_jobs(server) if j["id"] == dead["id"]]
        return again and again[0]["finished_at"] != dead["finished_at"]
    wait(a, ran_again, timeout=15, message="the retried job ran again")

    # Keys: create one (shown once, and it works), revoke the spare (it stops working).
    a.find_element(By.XPATH, "//nav[@aria-label='Admin']//a[normalize-space()='API keys']").click()
    wait(a, lambda d: d.find_elements(By.XPATH, "//h2[normalize-space()='New key']"), message="keys page")
    fill(a, "Name", "made in the console")
    submit(a, "Create key")
    wait(a, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-new-key]"), message="the new key shown")
    made = a.find_element(By.CSS_SELECTOR, "[data-new-key]").text.strip()
    assert made.startswith("sk_live_"), made
    assert status_of(base, "/v1/admin/users", made) == 200
    revoke = f"//button[starts-with(@aria-label, 'Revoke ci bot')]"
    wait(a, lambda d: d.find_elements(By.XPATH, revoke), message="the spare key listed")
    axe(a, "the admin keys page")
    a.find_element(By.XPATH, revoke).click()
    WebDriverWait(a, 5).until(lambda d: d.switch_to.alert).accept()
    wait(a, lambda d: "Revoked" in d.find_element(By.ID, "toast").text, message="revoke acknowledged")
    wait(a, lambda d: not d.find_elements(By.XPATH, revoke), message="the spare key shown revoked")
    assert status_of(base, "/v1/admin/users", spare["api_key"]) == 401, "the revoked key still works"
    # Shown once: the keys page drawn again holds its hint, never the key.
    a.refresh()
    wait(a, lambda d: d.find_elements(By.XPATH, "//h2[normalize-space()='New key']"), message="keys page again")
    assert made not in a.page_source, "the new key is shown again"

    # The other pages draw without errors.
    for label, heading in [("Webhooks", "Outgoing webhooks"), ("Plans & usage", "Plans"), ("Health", None)]:
        a.find_element(By.XPATH, f"//nav[@aria-label='Admin']//a[normalize-space()='{label}']").click()
        if heading:
            wait(a, lambda d: d.find_elements(By.XPATH, f"//h2[normalize-space()='{heading}']"), message=label)
        else:
            wait(a, lambda d: d.find_elements(By.CSS_SELECTOR, ".figures"), message=label)
        axe(a, f"the admin {label} page")
    wait(a, lambda d: "Database" in d.page_source and "OK" in d.find_element(By.CSS_SELECTOR, ".figures").text, message="health figures")
    shot(a, "admin-health")
    assert_no_console_errors(a, "the admin pages")

    # A member who is not the operator gets the unknown page's 404, on the server and on screen.
    b.get(base + "/app/admin/keys")
    wait(b, lambda d: d.find_elements(By.XPATH, "//h1[normalize-space()='Page not found']"), message="admin refused to a member")
    req = urllib.request.Request(base + "/app/admin/keys")
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("the admin page answered without an operator")
    except urllib.error.HTTPError as e:
        assert e.code == 404, e.code
    b.get_log("browser")  # the refused page's 404 is expected


if __name__ == "__main__":
    main()
