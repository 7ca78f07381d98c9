"""Fixtures for the practice tests: one fitted library index for the whole session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def index(library):
    from workbench.content.search import LibraryIndex

    return LibraryIndex(library)
