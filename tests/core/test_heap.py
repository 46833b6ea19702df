"""The heap built at startup is frozen out of full garbage collections while the process works,
and thawed when it stops."""

from __future__ import annotations

import gc
from typing import Any

from app.core.heap import startup_heap_frozen


def test_what_lives_at_startup_is_frozen_while_the_process_works_and_thawed_after() -> None:
    built_at_startup = [object() for _ in range(100)]
    with startup_heap_frozen():
        assert gc.get_freeze_count() >= len(built_at_startup)
    assert gc.get_freeze_count() == 0


async def test_the_running_app_keeps_its_startup_heap_frozen(service: Any) -> None:
    assert service.state.engine is not None  # started
    assert gc.get_freeze_count() > 0
