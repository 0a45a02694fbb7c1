#!/usr/bin/env python3
"""Measures the console's first board load: a project with N tasks (default 1000), a cold
browser (fresh profile, empty cache), headless Chromium. Prints the script and style bytes
transferred (compressed, from the Resource Timing API) and the time from navigation start until
every card is on the board. A benchmark, not a test: it asserts nothing about speed.

Usage: tests/browser/board_load.py [path/to/kanri] [tasks]   (use a release binary for figures)
"""
import json
import os
import sys
import time
import urllib.request

from selenium.webdriver.common.by import By

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import console  # noqa: E402  (its browser and helpers)
from console import kanri_server  # noqa: E402


def call(base, method, path, token, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=60) as res:
        return json.loads(res.read())["data"]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else kanri_server.default_binary()
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    with kanri_server.running(binary, "boardload") as server:
        base = server.base
        signup = urllib.request.Request(base + "/v1/auth/register", method="POST", data=json.dumps(
            {"email": "load@example.com", "password": console.PASSWORD, "name": "Load"}).encode())
        signup.add_header("Content-Type", "application/json")
        token = json.loads(urllib.request.urlopen(signup).read())["data"]["token"]
        ws = call(base, "POST", "/v1/workspaces", token, {"name": "Load"})["id"]
        project = call(base, "POST", f"/v1/workspaces/{ws}/projects", token, {"name": "Big"})["id"]
        statuses = ["TODO", "IN_PROGRESS", "DONE"]
        for i in range(count):
            call(base, "POST", f"/v1/projects/{project}/tasks", token,
                 {"title": f"Task {i} of the big board", "status": statuses[i % 3]})
        driver = console.browser()
        try:
            driver.get(base + "/app/sign-in")
            console.wait(driver, lambda d: d.find_elements(By.XPATH, "//h1[normalize-space()='Sign in']"))
            console.fill(driver, "Email", "load@example.com")
            console.fill(driver, "Password", console.PASSWORD)
            console.submit(driver, "Sign in")
            console.wait(driver, lambda d: d.find_elements(By.XPATH, "//h1[normalize-space()='Your workspaces']"))
            # A cold load: nothing of the console in the browser's cache.
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            driver.get(f"{base}/app/p/{project}")
            console.wait(driver, lambda d: d.execute_script(
                "return document.querySelectorAll('li.card').length") >= count, timeout=60)
            rendered = driver.execute_script("return performance.now()")
            sizes = driver.execute_script(
                "return performance.getEntriesByType('resource')"
                ".filter(e => /\\.(js|css)$/.test(new URL(e.name).pathname))"
                ".map(e => [e.name.split('/').pop(), e.encodedBodySize, e.decodedBodySize])")
            api = driver.execute_script(
                "return performance.getEntriesByType('resource')"
                ".filter(e => new URL(e.name).pathname.startsWith('/v1/'))"
                ".map(e => [new URL(e.name).pathname.split('/').slice(-1)[0], Math.round(e.startTime), Math.round(e.responseEnd)])")
        finally:
            driver.quit()
    compressed = sum(s[1] for s in sizes)
    raw = sum(s[2] for s in sizes)
    print(f"{len(sizes)} script and style files: {compressed / 1024:.1f} KiB transferred, "
          f"{raw / 1024:.1f} KiB decoded")
    if os.environ.get("KANRI_BOARD_LOAD_TRACE"):
        for name, start, end in api:
            print(f"  {name}: {start}-{end} ms")
    print(f"{count} tasks on the board {rendered:.0f} ms after navigation start (cold cache)")


if __name__ == "__main__":
    main()
