"""Layering: only guardline.crypto touches cryptography.hazmat or PKCS#11, and only the provider loads it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import guardline

SRC = Path(guardline.__file__).parent
VENDOR_IMPORT = re.compile(r"^\s*(from|import)\s+(cryptography\.hazmat|pkcs11)\b", re.MULTILINE)


def test_only_crypto_imports_hazmat_or_pkcs11() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "crypto" not in path.relative_to(SRC).parts[:1] and VENDOR_IMPORT.search(path.read_text("utf-8"))
    ]
    assert offenders == []


def test_importing_crypto_does_not_load_pkcs11() -> None:
    code = "import sys, guardline.crypto; print(any(m.split('.')[0] == 'pkcs11' for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "False"
