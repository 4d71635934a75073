"""Benchmark: the cluster picture in headless chromium for a simulated cluster.

Loads a simulated cluster (firms, relationships, invoices) into a SQLite file, serves the
app, logs in and times: the elements JSON (server side, cold and cached), the page until
Cytoscape has drawn every firm, and the mean frame time over 20 zoom-and-pan steps.
Baseline in the same run: Cytoscape's own force-directed layout (``cose``) run in the
browser on the same elements, which is what the server-computed preset layout avoids.

    .venv/bin/python bench/network_picture.py                 # 2,000 vendors
    .venv/bin/python bench/network_picture.py --vendors 300
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import threading
import time
from pathlib import Path

from trellis import clock, db, migrate
from trellis.accounts import services
from trellis.config import Settings

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
PASSWORD = "bench password 2026"
FRAMES = """async () => {
    const cy = trellisNetwork, t0 = performance.now();
    for (let i = 0; i < 20; i++) {
        cy.zoom({level: cy.zoom() * (i % 2 ? 0.8 : 1.25), renderedPosition: {x: 300, y: 300}});
        cy.panBy({x: 7, y: -5});
        await new Promise(r => requestAnimationFrame(() => r()));
    }
    return (performance.now() - t0) / 20;
}"""
RELAYOUT = """async () => {
    const cy = trellisNetwork, t0 = performance.now();
    cy.layout({name: 'cose', animate: false, numIter: 250}).run();
    await new Promise(r => requestAnimationFrame(() => r()));
    return performance.now() - t0;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendors", type=int, default=2000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from trellis.demo.loader import load
    from trellis.demo.simulator import simulate
    from trellis.platform import create_app

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'picture.db'}"
        migrate.upgrade(url)
        app = create_app(settings=Settings.from_env({}, env="test", database_url=url,
                                                    instance_path=str(Path(tmp) / "i")))
        data = simulate(n_vendors=args.vendors, months=12, seed=3, end=clock.today())
        slim = dataclasses.replace(
            data, purchase_orders=[], deliveries=[], payments=[], payment_allocations=[],
            credit_notes=[], loan_outcomes=[],
            invoices=[{**v, "order_number": None} for v in data.invoices])
        with db.transaction(app.extensions["trellis.sessions"]) as s:
            load(session=s, data=slim, cluster_code="bench", cluster_name="基准园区")
            services.create_user(session=s, email="bench@example.cn", password=PASSWORD,
                                 role="admin", locale="en")
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(base + "/login")
            page.fill("input[name=email]", "bench@example.cn")
            page.fill("input[name=password]", PASSWORD)
            page.click("form button.primary")
            page.wait_for_url(base + "/")
            for label in ("cold", "cached"):
                t0 = time.perf_counter()
                response = page.request.get(base + "/network/bench/elements.json")
                print(f"elements.json {label}: {time.perf_counter() - t0:.2f} s, "
                      f"{len(response.body()) / 1e6:.1f} MB")
            t0 = time.perf_counter()
            page.goto(base + "/network/bench")
            page.wait_for_selector("#net-cy[data-ready=true]", timeout=120_000)
            ready = time.perf_counter() - t0
            nodes = page.evaluate("trellisNetwork.nodes().length")
            edges = page.evaluate("trellisNetwork.edges().length")
            frame = page.evaluate(FRAMES)
            print(f"page ready (preset layout): {ready:.2f} s for {nodes:,} firms, "
                  f"{edges:,} edges; {frame:.0f} ms a zoom/pan frame")
            force = page.evaluate(RELAYOUT)
            frame_after = page.evaluate(FRAMES)
            print(f"baseline: Cytoscape's own force layout (cose, 250 iterations) in the "
                  f"browser: {force / 1000:.2f} s; {frame_after:.0f} ms a frame after")
            browser.close()
        server.shutdown()
        app.extensions["trellis.engine"].dispose()


if __name__ == "__main__":
    main()
