"""The preview opened in headless Chromium: it renders, and every chart image loads.

The screenshots are kept in artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from alerts.digest import IsoWeek, build_digest, write_preview
from tests.digest.known_week import BRAND

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
# Records, once the page has loaded, whether each image was fetched and decoded.
IMAGE_PROBE = """<script>
window.addEventListener("load", () => {
  const loaded = Array.from(document.images, (img) => img.complete && img.naturalWidth > 0);
  document.body.setAttribute("data-images-loaded", JSON.stringify(loaded));
});
</script>
"""

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Chromium (apt-get install chromium; .ci/run installs it)"
)


def chromium(page: Path, profile: Path, *options: str) -> str:
    assert CHROMIUM is not None
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=10000",
            *options,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_preview_renders_with_every_image(filled_sqlite: Engine, tmp_path: Path, language: str) -> None:
    brand = BRAND.model_copy(update={"digest_language": language})
    digest = build_digest(filled_sqlite, brand, IsoWeek(2026, 47), now=datetime(2026, 11, 23, 7, tzinfo=UTC))
    page, *images = write_preview(digest, tmp_path / "preview" / "digest.html")
    assert [image.name for image in images] == [
        f"digest-{name}.png" for name in ("daily", "sources", "ratings", "trend")
    ]
    html = page.read_text(encoding="utf-8")
    assert re.findall(r'<img src="([^"]+)"', html) == [image.name for image in images]

    probe = page.with_name("probe.html")
    probe.write_text(html.replace("</body>", IMAGE_PROBE + "</body>"), encoding="utf-8")
    dom = chromium(probe, tmp_path / "profile", "--dump-dom")
    found = re.search(r'data-images-loaded="([^"]*)"', dom)
    assert found, "the page did not finish loading"
    assert json.loads(found.group(1).replace("&quot;", '"')) == [True] * 4
    assert digest.subject.split(":")[0] in dom

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / f"digest-preview-{language}.png"
    screenshot.unlink(missing_ok=True)
    chromium(page, tmp_path / "profile", f"--screenshot={screenshot}", "--window-size=900,3300")
    assert screenshot.stat().st_size > 50_000  # a blank page is a few kB
    print(f"digest preview screenshot: {screenshot}")
