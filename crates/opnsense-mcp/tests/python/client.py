"""Drives opnsense-mcp with the official Python MCP SDK (v2 API, `mcp.Client`).

Runs the same scenario four times: over stdio and over streamable HTTP, each with
mode="auto" (2026-07-28 discovery, falls back to initialize) and mode="legacy" (initialize
handshake). Reads its configuration as JSON from argv[1]:

    {"binary": "...", "args": ["serve"], "env": {...}, "http_url": "http://127.0.0.1:P/mcp",
     "token": "...", "timeout": 60}

and prints one JSON summary line on stdout (diagnostics go to stderr). The Rust test
`crates/opnsense-mcp/tests/e2e/python_client.rs` asserts on the summary.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client


def dump(model: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def result_summary(result: Any) -> dict[str, Any]:
    texts = [c.text for c in result.content if getattr(c, "type", None) == "text"]
    return {
        "is_error": bool(result.is_error),
        "structured": result.structured_content,
        "text": "\n".join(texts),
    }


async def scenario(client: Client, tag: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "protocol_version": client.protocol_version,
        "server_name": client.server_info.name if client.server_info else None,
    }
    tools = (await client.list_tools()).tools
    out["tools"] = [dump(t) for t in tools]
    out["list"] = result_summary(await client.call_tool("firewall_rule_list", {"row_count": 5}))
    out["alias_name"] = f"e2e_py_{tag}"
    out["alias_add"] = result_summary(
        await client.call_tool(
            "firewall_alias_add",
            {
                "alias": {
                    "name": out["alias_name"],
                    "type": "host",
                    "content": ["10.9.7.1"],
                    "description": f"e2e python {tag}",
                }
            },
        )
    )
    out["alias_apply"] = result_summary(await client.call_tool("firewall_alias_apply", {}))
    # The apply leaves the change pending: keep it (else it is reverted when the server exits).
    change_id = (out["alias_apply"]["structured"] or {}).get("change_id")
    out["alias_confirm"] = result_summary(
        await client.call_tool("change_confirm", {"change_id": change_id})
    )
    out["invalid_rule"] = result_summary(
        await client.call_tool(
            "firewall_rule_add",
            {
                "rule": {
                    "action": "pass",
                    "interface": ["lan"],
                    "protocol": "TCP",
                    "destination_net": "not-an-alias",
                    "destination_port": "443",
                    "description": "e2e invalid destination",
                }
            },
        )
    )
    out["unknown_uuid"] = result_summary(
        await client.call_tool("firewall_rule_get", {"uuid": "3f0c6a52-0d7e-4d7b-9a43-5b1f7e0c2a91"})
    )
    return out


async def run_one(name: str, make_server: Any, mode: str, timeout: float) -> dict[str, Any]:
    summary: dict[str, Any] = {"name": name, "mode": mode}
    try:
        with anyio.fail_after(timeout):
            async with Client(make_server(), mode=mode, read_timeout_seconds=timeout) as client:
                summary.update(await scenario(client, name.replace("-", "_")))
    except BaseException as e:  # noqa: BLE001 - reported to the Rust test, which fails
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        summary["error"] = "".join(traceback.format_exception(e))
    return summary


async def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        cfg = json.load(f)
    timeout = float(cfg.get("timeout", 60))

    def stdio() -> StdioServerParameters:
        return StdioServerParameters(command=cfg["binary"], args=cfg["args"], env=cfg["env"])

    def http() -> Any:
        headers = {"Authorization": f"Bearer {cfg['token']}"}
        return streamable_http_client(
            cfg["http_url"], http_client=httpx2.AsyncClient(headers=headers, timeout=timeout)
        )

    runs = []
    for name, make, mode in [
        ("stdio-auto", stdio, "auto"),
        ("stdio-legacy", stdio, "legacy"),
        ("http-auto", http, "auto"),
        ("http-legacy", http, "legacy"),
    ]:
        runs.append(await run_one(name, make, mode, timeout))
    import mcp

    version = getattr(mcp, "__version__", None)
    if version is None:
        from importlib.metadata import version as dist_version

        version = dist_version("mcp")
    print(json.dumps({"mcp_version": version, "runs": runs}))


if __name__ == "__main__":
    anyio.run(main)
