from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

# The suite checks rulecore's English output: a developer's zh_CN locale must not turn it into
# Chinese.  Tests of the Chinese output ask for it with --lang zh or their own environment.
os.environ["RULECORE_LANG"] = "en"


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def shared_data() -> Path:
    """The real public datasets, present in CI beside the clone; absent in a user's clone."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"the shared real-data folder is not at {SHARED_DATA} (it sits beside the clone in CI)"
        )
    return SHARED_DATA
