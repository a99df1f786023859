"""The accessibility checks a browser test runs on each page it visits (SPEC §13): axe-core
finds no WCAG 2.0/2.1/2.2 A or AA violation, and at 200 % zoom on a 390-pixel phone (a viewport
195 CSS pixels wide) nothing scrolls sideways and the page's heading is on the first screen.

axe-core is vendored (bin/fetch-axe downloads the pinned version from the npm registry and checks
its integrity hash), so the tests never need the network. It is run through Playwright's
`evaluate` (the DevTools protocol), which the site's Content-Security-Policy does not govern:
the pages keep their real policy while they are checked."""

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

VENDOR = Path(__file__).resolve().parent / "vendor"
AXE_VERSION = "4.14.1"
# The file bin/fetch-axe stored; a changed file must come from the script, not by hand.
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
# 390 CSS pixels at 200 % zoom, on a phone 844 pixels high.
ZOOMED_PHONE = {"width": 195, "height": 422}

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  const why = (node) => node.failureSummary.split("\\n").slice(1).join(" ");
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((node) => `${node.target.join(" ")}: ${why(node)}`),
  }));
}"""

# `screen`: the viewport's width as the test set it. In a mobile context (is_mobile) the browser
# widens the layout viewport to fit content that overflows, as a phone does by zooming out, so
# window.innerWidth grows with the overflow and cannot show it.
MEASURE = """(screen) => {
  const width = Math.min(window.innerWidth, screen || window.innerWidth);
  const named = (e) => {
    const classes = typeof e.className === "string" ? e.className.trim().split(/\\s+/) : [];
    const id = e.id ? `#${e.id}` : "";
    const width = Math.round(e.getBoundingClientRect().width);
    return `${e.tagName.toLowerCase()}${id}${classes.map((c) => "." + c).join("")} (${width}px)`;
  };
  const wide = [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > width + 1)
    .filter((e) => !e.closest(".visually-hidden, .skip-link"))
    .slice(0, 5)
    .map(named);
  const heading = document.querySelector("main h1");
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    innerHeight: window.innerHeight,
    headingTop: heading ? heading.getBoundingClientRect().top + window.scrollY : null,
    wide,
  };
}"""


@cache
def axe_source() -> str:
    source = (VENDOR / "axe.min.js").read_bytes()
    digest = hashlib.sha256(source).hexdigest()
    assert digest == AXE_SHA256, f"axe.min.js is not axe-core {AXE_VERSION}: run bin/fetch-axe"
    return source.decode()


def axe_violations(page: Any) -> list[str]:
    """What axe-core finds on the page as it is now, one readable line per element."""
    page.wait_for_load_state()
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    found = page.evaluate(RUN_AXE, WCAG_AA)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {node}" for v in found for node in v["nodes"]
    ]


def reflow_problems(page: Any) -> list[str]:
    """Sideways scrolling, or a main heading pushed below the first screen (by the header)."""
    page.wait_for_load_state()  # a page just committed may have no <html> yet
    m = page.evaluate(MEASURE, (page.viewport_size or {}).get("width"))
    problems = []
    if m["scrollWidth"] > m["innerWidth"]:
        problems.append(
            f"scrolls sideways: {m['scrollWidth']}px wide in {m['innerWidth']}px; "
            f"wider than the screen: {', '.join(m['wide'])}"
        )
    if m["headingTop"] is None:
        problems.append("no <h1> in <main>")
    elif m["headingTop"] >= m["innerHeight"]:
        problems.append(f"the heading starts at {m['headingTop']:.0f}px, below the first screen")
    return problems
