"""``trellis worker``: a Huey consumer plus the sweep that requeues dead workers' tasks.

Run as many workers as you like, on as many machines as share the database and the
queue's storage: each message is taken by one worker, each ``task_runs`` row claimed by
one attempt at a time. SIGINT (Ctrl-C) finishes running tasks first; SIGTERM stops at
once (the sweep of another worker, or of this one when it starts again, requeues what
was interrupted once its lease runs out).
"""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger(__name__)


def run_worker(queue, *, workers: int, sweep_seconds: float = 5.0) -> None:
    """Consume *queue* with *workers* threads until stopped by a signal."""
    stop = threading.Event()

    def sweep_loop() -> None:
        while not stop.is_set():
            try:
                moved = queue.sweep()
                if moved:
                    logger.info("sweep: %d task(s) sent again", moved)
            except Exception:  # a database hiccup: try again next time
                logger.exception("task sweep failed")
            stop.wait(sweep_seconds)

    sweeper = threading.Thread(target=sweep_loop, name="task-sweep", daemon=True)
    sweeper.start()
    try:
        queue.consumer(workers=workers).run()
    finally:
        stop.set()
        sweeper.join(timeout=5)
