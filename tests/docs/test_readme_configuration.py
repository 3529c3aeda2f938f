"""The README's configuration table names every environment variable the settings read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ = re.compile(r"""(?:environ\.get|environ\[|env_bool)\(?\s*["']([A-Z][A-Z0-9_]+)["']""")
INTERNAL = {"PYTEST_VERSION"}  # set by pytest itself, not by whoever runs the service


def test_every_variable_the_settings_read_is_in_the_readme() -> None:
    read = set(READ.findall((ROOT / "oms" / "settings.py").read_text())) - INTERNAL
    readme = (ROOT / "README.md").read_text()
    configuration = readme[readme.index("## Configuration"):readme.index("## Worker and beat")]
    assert read, "no variables found: has the settings module changed how it reads them?"
    missing = sorted(name for name in read if f"`{name}`" not in configuration)
    assert not missing, f"not in the README's Configuration table: {missing}"
