#!/usr/bin/env python3
"""The generated-client scenario: a typed Python client generated from the served
/openapi.json by openapi-python-client (a generator nobody here wrote) drives a real
`kanri serve` the way a frontend would: register → workspace → project → tasks (paged) →
comment → upload → download → search. Every response is parsed into the generated models, so
an enum, a time or a schema that does not match what the server sends fails here.

Usage: tests/contract/client_scenario.py [path/to/kanri]   (default: the debug build)
Runs on SQLite, or on PostgreSQL when KANRI_TEST_DATABASE_URL is set. Exits non-zero on any
mismatch, and when openapi-python-client is missing.
"""
import datetime
import importlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, ".ci"))
import kanri_server  # noqa: E402

TASKS = 23
PAGE = 10


def generate(base, out):
    generator = shutil.which("openapi-python-client")
    if not generator:
        sys.exit("openapi-python-client is not installed (pip install openapi-python-client)")
    spec = os.path.join(out, "openapi.json")
    with urllib.request.urlopen(base + "/openapi.json", timeout=30) as res, open(spec, "wb") as f:
        f.write(res.read())
    run = subprocess.run(
        [generator, "generate", "--path", spec, "--meta", "none", "--output-path",
         os.path.join(out, "kanri_client")],
        capture_output=True, text=True,
    )
    print(run.stdout, run.stderr, sep="\n")
    # A warning means an operation was left out of the client: the document is not usable.
    if run.returncode != 0 or "Warning" in run.stdout + run.stderr:
        sys.exit("openapi-python-client did not generate a complete client")
    sys.path.insert(0, out)
    return importlib.import_module("kanri_client")


def ok(response, status):
    """The parsed body of a response that must have `status`."""
    assert response.status_code == status, (
        f"expected {status}, got {response.status_code}: {response.content[:500]!r}"
    )
    assert response.parsed is not None, f"the client could not parse {response.content[:500]!r}"
    return response.parsed


def scenario(server, out):
    kc = generate(server.base, out)
    api = importlib.import_module("kanri_client.api")
    models = importlib.import_module("kanri_client.models")
    types = importlib.import_module("kanri_client.types")
    mod = lambda name: importlib.import_module(f"kanri_client.api.{name}")  # noqa: E731

    public = kc.Client(base_url=server.base, headers={"X-Api-Key": server.publishable_key},
                       raise_on_unexpected_status=True)
    session = ok(mod("auth.register").sync_detailed(client=public, body=models.RegisterRequest(
        email="frontend@example.com", password="generated client 1", name="Frontend",
    )), 201).data
    assert isinstance(session.expires_at, datetime.datetime), session.expires_at
    client = kc.AuthenticatedClient(base_url=server.base, token=session.token,
                                    raise_on_unexpected_status=True)

    workspace = ok(mod("workspaces.create_workspace").sync_detailed(
        client=client, body=models.CreateWorkspace(name="Generated"),
    ), 201).data
    project = ok(mod("projects.create_project").sync_detailed(
        workspace.id, client=client, body=models.CreateProject(name="Client project"),
    ), 201).data
    assert isinstance(project.status, models.ProjectStatus), project.status

    created = []
    for n in range(TASKS):
        task = ok(mod("tasks.create_task").sync_detailed(
            project.id, client=client, body=models.CreateTask(
                title=f"Task {n} {'kingfisher' if n == 7 else 'routine'}",
                priority=models.Priority.HIGH if n % 2 else models.Priority.LOW,
                due_date=datetime.datetime(2027, 1, 1 + n, tzinfo=datetime.timezone.utc),
            ),
        ), 201).data
        assert isinstance(task.status, models.TaskStatus) and task.status.value == "TODO"
        assert task.priority.value == ("HIGH" if n % 2 else "LOW"), task.priority
        assert isinstance(task.created_at, datetime.datetime), task.created_at
        assert task.due_date == datetime.datetime(2027, 1, 1 + n, tzinfo=datetime.timezone.utc)
        created.append(task.id)

    # Every page through the generated list call, following the cursor to the end.
    seen, cursor, pages = [], types.UNSET, 0
    while True:
        page = ok(mod("tasks.list_tasks").sync_detailed(
            project.id, client=client, limit=PAGE, cursor=cursor,
        ), 200).data
        pages += 1
        assert len(page.items) <= PAGE, len(page.items)
        seen += [t.id for t in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(created), (len(seen), len(created))
    assert pages == -(-TASKS // PAGE), pages

    target = created[7]
    comment = ok(mod("tasks.create_comment").sync_detailed(
        target, client=client, body=models.CommentBody(content="Looks right to me"),
    ), 201).data
    comments = ok(mod("tasks.list_comments").sync_detailed(target, client=client), 200).data
    assert [c.id for c in comments.items] == [comment.id], comments

    payload = b"notes from the generated client\n" * 64
    attachment = ok(mod("attachments.upload_attachment").sync_detailed(
        target, client=client, body=models.UploadForm(file=types.File(
            payload=io.BytesIO(payload), file_name="notes.txt", mime_type="text/plain",
        )),
    ), 201).data
    assert attachment.size_bytes == len(payload) and attachment.filename == "notes.txt", attachment
    downloaded = ok(mod("attachments.download_attachment").sync_detailed(
        attachment.id, client=client,
    ), 200)
    assert downloaded.payload.read() == payload
    part = ok(mod("attachments.download_attachment").sync_detailed(
        attachment.id, client=client, range_="bytes=0-4",
    ), 206)
    assert part.payload.read() == payload[:5]

    results = ok(mod("search.search_project").sync_detailed(
        project.id, client=client, body=models.SearchBody(query="kingfisher", mode=models.SearchMode.TEXT),
    ), 200).data
    assert [h.task.id for h in results.items] == [target], [h.task.id for h in results.items]
    assert isinstance(results.mode, models.SearchMode), results.mode

    # An error comes back as the documented envelope, parsed into its model.
    missing = mod("tasks.get_task").sync_detailed("0" * 26, client=client)
    assert missing.status_code == 404 and isinstance(missing.parsed, models.ErrorBody), missing
    del api
    print(f"generated-client scenario passed: {TASKS} tasks over {pages} pages, comment, "
          f"upload of {len(payload)} bytes, range download, search")


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else kanri_server.default_binary()
    out = tempfile.mkdtemp(prefix="kanri-client-")
    with kanri_server.running(binary, "client") as server:
        scenario(server, out)


if __name__ == "__main__":
    main()
