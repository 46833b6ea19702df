"""`python -m app serve` says where the console is."""

from __future__ import annotations

import pytest

from tests.support.live import LiveService

pytestmark = pytest.mark.e2e


def test_serve_names_the_console(service: LiveService) -> None:
    port = service.base_url.rsplit(":", 1)[1]
    assert f"Admin console: http://127.0.0.1:{port}/console" in service.log()
