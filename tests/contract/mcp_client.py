#!/usr/bin/env python3
"""The MCP endpoint through the official Python MCP SDK (`mcp`, its Streamable HTTP client)
against a real `kanri serve` (SQLite, or PostgreSQL with KANRI_TEST_DATABASE_URL):

- the client initialises and lists the tools;
- as a member it creates a task, finds it by search, moves it to IN_PROGRESS and assigns it,
  comments, and reads it back with the comment; each change is in the task's activity (the REST
  API's, so the same event path);
- bad arguments and refusals are tool errors carrying the API's code;
- a viewer cannot create tasks, and an outsider sees none of the workspace;
- without a token the endpoint answers 401 with a Bearer challenge.

Usage: tests/contract/mcp_client.py [path/to/kanri]
"""
import asyncio
import json
import os
import sys
import urllib.error
import urllib.request

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), ".ci"))
import kanri_server  # noqa: E402


def rest(server, method, path, token=None, body=None):
    headers = {"X-Api-Key": server.publishable_key}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return kanri_server.call(server.base, method, path, body, headers)


def sign_up(server, email):
    body = {"email": email, "password": "correct horse battery 9", "name": email.split("@")[0]}
    data = rest(server, "POST", "/v1/auth/register", body=body)["data"]
    return data["token"], data["user"]["id"]


async def with_session(server, token, work):
    client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    async with client:
        async with streamable_http_client(server.base + "/mcp", http_client=client) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await work(session)


def structured(result):
    assert not result.is_error, result.content
    return result.structured_content


def error_text(result):
    assert result.is_error, f"expected a tool error, got {result.structured_content}"
    return result.content[0].text


async def scenario(server):
    owner, _ = sign_up(server, "owner@example.com")
    member, member_id = sign_up(server, "member@example.com")
    viewer, viewer_id = sign_up(server, "viewer@example.com")
    outsider, _ = sign_up(server, "outsider@example.com")
    ws = rest(server, "POST", "/v1/workspaces", owner, {"name": "Launch"})["data"]["id"]
    for user, role in [(member_id, "MEMBER"), (viewer_id, "VIEWER")]:
        rest(server, "POST", f"/v1/workspaces/{ws}/members", owner, {"user_id": user, "role": role})
    project = rest(server, "POST", f"/v1/workspaces/{ws}/projects", owner,
                   {"name": "Website", "members": [member_id, viewer_id]})["data"]["id"]

    async def as_member(session):
        tools = {t.name for t in (await session.list_tools()).tools}
        assert {"list_workspaces", "list_projects", "list_tasks", "get_task", "create_task",
                "update_task", "add_comment", "search_tasks"} <= tools, tools
        workspaces = structured(await session.call_tool("list_workspaces", {}))["workspaces"]
        assert [w["id"] for w in workspaces] == [ws], workspaces
        projects = structured(await session.call_tool("list_projects", {"workspace_id": ws}))["projects"]
        assert [p["id"] for p in projects] == [project], projects
        task = structured(await session.call_tool("create_task", {
            "project_id": project, "title": "Publish the pricing page", "priority": "HIGH"}))["task"]
        assert task["status"] == "TODO" and task["priority"] == "HIGH", task
        found = structured(await session.call_tool("search_tasks", {
            "query": "pricing", "project_id": project, "mode": "text"}))
        assert [h["task"]["id"] for h in found["items"]] == [task["id"]], found
        across = structured(await session.call_tool("search_tasks", {
            "query": "pricing", "workspace_id": ws, "mode": "text"}))
        assert [h["task"]["id"] for h in across["items"]] == [task["id"]], across
        moved = structured(await session.call_tool("update_task", {
            "task_id": task["id"], "status": "IN_PROGRESS", "assignee_id": member_id,
            "due_date": "2031-05-01"}))["task"]
        assert moved["status"] == "IN_PROGRESS" and moved["assignee_id"] == member_id, moved
        structured(await session.call_tool("add_comment", {"task_id": task["id"], "content": "Draft is up"}))
        read = structured(await session.call_tool("get_task", {"task_id": task["id"]}))
        assert [c["content"] for c in read["comments"]] == ["Draft is up"], read
        listed = structured(await session.call_tool("list_tasks", {"project_id": project, "status": "IN_PROGRESS"}))
        assert [t["id"] for t in listed["tasks"]] == [task["id"]], listed
        # Refusals are tool errors with the API's code.
        text = error_text(await session.call_tool("create_task", {"project_id": project, "title": ""}))
        assert text.startswith("validation_failed"), text
        text = error_text(await session.call_tool("create_task", {"project_id": project, "title": "x", "colour": "red"}))
        assert text.startswith("invalid_arguments"), text
        text = error_text(await session.call_tool("update_task", {"task_id": task["id"], "version": 1, "title": "stale"}))
        assert text.startswith("version_conflict"), text
        text = error_text(await session.call_tool("no_such_tool", {}))
        assert "no tool named" in text, text
        return task

    task = await with_session(server, member, as_member)
    activity = rest(server, "GET", f"/v1/tasks/{task['id']}/activity", owner)["data"]["items"]
    kinds = [e["kind"] for e in activity]
    assert kinds[0] == "task.created" and "task.assigned" in kinds and "comment.created" in kinds, kinds
    assert all(e["actor_id"] == member_id for e in activity), activity

    async def as_viewer(session):
        text = error_text(await session.call_tool("create_task", {"project_id": project, "title": "Nope"}))
        assert text.startswith("forbidden"), text
        read = structured(await session.call_tool("get_task", {"task_id": task["id"]}))
        assert read["task"]["title"] == "Publish the pricing page"

    await with_session(server, viewer, as_viewer)

    async def as_outsider(session):
        assert structured(await session.call_tool("list_workspaces", {}))["workspaces"] == []
        for name, args in [("list_projects", {"workspace_id": ws}), ("get_task", {"task_id": task["id"]}),
                           ("search_tasks", {"query": "pricing", "project_id": project})]:
            text = error_text(await session.call_tool(name, args))
            assert text.startswith("not_found"), (name, text)

    await with_session(server, outsider, as_outsider)

    # No token: the transport is never reached.
    req = urllib.request.Request(server.base + "/mcp", data=json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode(), method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"})
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("an anonymous MCP call was answered")
    except urllib.error.HTTPError as e:
        assert e.code == 401 and e.headers.get("WWW-Authenticate") == "Bearer", (e.code, e.headers)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else kanri_server.default_binary()
    with kanri_server.running(binary, "mcp") as server:
        asyncio.run(scenario(server))
    print("MCP client scenario: ok")


if __name__ == "__main__":
    main()
