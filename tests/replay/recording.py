"""What the recorders of a release's paths share: a dev server and a small shop to drive the
paths on, then each workflow's history written as `{kind}-{n}.json` into a folder of its own
(the folder's old recordings replaced)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from domains.catalog.importer import parse_catalog
from fixtures.generator import generate_catalog

from ..embedded import load_embedded
from ..servers import start_dev_server
from ..shop_harness import running_shop


async def record_paths(folder: Path, paths: Callable[..., Awaitable[list[str]]]) -> None:
    """Run `paths(env, store, shop, catalog)` on a fresh shop and record the histories of the
    workflow ids it returns into `folder`."""
    env = await start_dev_server()
    tmp = Path(tempfile.mkdtemp())
    catalog = parse_catalog(generate_catalog(seed=3, product_count=40))
    store, index = load_embedded(tmp, catalog, stock=10)
    try:
        async with running_shop(env.client, store, index) as shop:
            ids = await paths(env, store, shop, catalog)
        folder.mkdir(exist_ok=True)
        for old in folder.glob("*.json"):
            old.unlink()
        for workflow_id in ids:
            history = await env.client.get_workflow_handle(workflow_id).fetch_history()
            kind = "supplier_order" if workflow_id.startswith("supplier-order") else workflow_id.split("-")[0]
            name = f"{kind}-{len(list(folder.glob(kind + '-*')))}"
            (folder / f"{name}.json").write_text(history.to_json())
            print(f"recorded {workflow_id} -> {name}.json ({len(history.events)} events)")
    finally:
        await env.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
