"""Headless Chromium for the tests of ``tlsbayes report --html``: load a page, report what the
browser made of it (the DOM after load, and each image's decoded size)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)
SKIP_REASON = "no Chromium on this machine (Debian: apt-get install chromium)"

#: Appended to a copy of the page (the page itself has no script): after the load event,
#: writes each image's decoded size into the DOM, where --dump-dom shows it.
PROBE = """<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = "images=" + imgs.map(function (i) {
    return i.complete ? i.naturalWidth + "x" + i.naturalHeight : "pending"; }).join(",");
  document.body.appendChild(out);
});
</script>
"""


def render(page: Path, scratch: Path) -> tuple:
    """``(dom, [(width, height) per image])`` of ``page`` as headless Chromium loaded it."""
    probe = scratch / f"probe_{page.stem}.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                     encoding="utf-8")
    out = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                          "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    dom = out.stdout
    m = re.search(r'<pre id="probe">images=([^<]*)</pre>', dom)
    assert m, f"the page did not finish loading:\n{dom[-2000:]}"
    sizes = [tuple(int(v) for v in s.split("x")) for s in m.group(1).split(",") if s]
    return dom, sizes
