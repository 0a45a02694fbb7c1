#!/usr/bin/env python3
"""The browser check of /docs: headless Chromium opens the page a real `kanri serve` serves and
the DOM it renders must list the API's operations, so Swagger UI's scripts ran under the page's
content security policy and read this server's /openapi.json.

Usage: tests/contract/docs_browser.py [path/to/kanri]   (needs chromium on PATH)
"""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, ".ci"))
import kanri_server  # noqa: E402

# Operations whose rendered rows must appear (Swagger UI writes each path into the page).
EXPECTED = ["/v1/projects/{id}/tasks", "/v1/auth/register", "/v1/tasks/{id}/attachments"]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else kanri_server.default_binary()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        sys.exit("chromium is not installed")
    with kanri_server.running(binary, "docs") as server:
        profile = tempfile.mkdtemp(prefix="kanri-chromium-")
        run = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=15000",
             # Swagger UI renders operation rows as they come into view: past ~130 operations
             # a default-sized window holds only the first few, so the window is made tall
             # enough to hold every row.
             "--window-size=1280,40000",
             "--dump-dom", server.base + "/docs"],
            capture_output=True, text=True, timeout=120,
        )
        dom = run.stdout
    missing = [path for path in EXPECTED if path not in dom]
    if missing or "swagger-ui" not in dom:
        print(run.stderr[-2000:], file=sys.stderr)
        sys.exit(f"/docs did not render the operations {missing} ({len(dom)} bytes of DOM)")
    rows = dom.count('class="opblock-summary-path"')
    print(f"/docs rendered in Chromium: {rows} operations listed")


if __name__ == "__main__":
    main()
