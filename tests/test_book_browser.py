"""The rendered book in a real browser: build it once, open every page in headless Chromium.

On every page of _toc.yml: no error output, traceback, failed exercise check, dead widget or
unresolved reference; every <img> loaded (naturalWidth > 0); math typeset by the MathJax that
ships inside the book (nothing comes from a CDN); every static explorer (xl.widgets) swaps its
picture when its controls move; notebook pages carry the Colab launch button for their own
notebook. The finish of a book a course can hand out, on every page: no "sources/" in the
text (the reader has no such folder: cite); no literal ``$`` or backtick left in the prose
(math and code that failed to render); no table printed as text (tabular outputs are HTML
tables); no code line over 88 characters; every explorer picture drawn at twice the density
it is shown at or more; every chapter (the preface and the numbered chapters) shows its
learning objectives and prerequisites; exercises numbered per chapter (Exercise 5.1, 5.2, ...
on chapter 5, in order); on the zoo page, one table row per zoo model; on the API page, every
public name documented. Screenshots of every page and of every explorer go to
tests/screenshots/ for a person to look at, with the build and browser timings in timings.txt.

The book is built once per session with ``jupyter-book build`` into a temporary folder; set
``XAI_LIB_BOOK_HTML=_build/html`` to check an existing build instead. Skips, saying why, where
Debian's chromium and chromium-driver are not installed (.ci/run installs them).
"""

from __future__ import annotations

import base64
import functools
import http.server
import re
import tempfile
import threading
import time
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "tests" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
]
SCREENSHOT_MAX_HEIGHT = (
    6000  # px: the top of a long chapter is enough for a person to judge it
)
# Known noise of Jupyter Book 1 itself, on every notebook page: sphinx-thebe declares THEBE_JS_URL twice.
IGNORED_CONSOLE = ("THEBE_JS_URL", "favicon.ico")
TIMINGS: dict[str, float] = {}


def toc_pages() -> list[str]:
    """Every document of _toc.yml, root first, in reading order ('book/intro', 'book/00_preface', ...)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    walk(toc.get("parts"))
    walk(toc.get("chapters"))
    return pages


PAGES = toc_pages()


def missing_browser() -> str | None:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        return (
            f"headless Chromium not installed ({CHROMIUM}, {CHROMEDRIVER}): "
            f"apt-get install chromium chromium-driver (.ci/run does this)"
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -r requirements.txt)"
    return None


@pytest.fixture(scope="session")
def book_html(book_build) -> Path:
    """The built book's html folder (tests/conftest.py builds it once per session)."""
    if missing_browser():
        pytest.skip(missing_browser())
    assert book_build.returncode == 0, (
        "the book build failed: see tests/test_notebooks.py"
    )
    if book_build.seconds is not None:
        TIMINGS["jupyter-book build"] = book_build.seconds
    return book_build.html


@pytest.fixture(scope="session")
def site(book_html):
    """The book served over HTTP on the loopback interface, as a reader's browser gets it."""
    quiet = type(
        "Quiet",
        (http.server.SimpleHTTPRequestHandler,),
        {"log_message": lambda *args: None},
    )
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(quiet, directory=str(book_html))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser(request, book_html):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile.name}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    SCREENSHOTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()
    profile.cleanup()
    report_timings(request.config)


def report_timings(config) -> None:
    """Build and browser times, on the terminal and in tests/screenshots/timings.txt."""
    pages = {k: v for k, v in TIMINGS.items() if k.startswith("page ")}
    lines = [
        f"{name}: {seconds:.1f} s"
        for name, seconds in TIMINGS.items()
        if not name.startswith("page ")
    ]
    lines.append(
        f"browser checks: {sum(pages.values()):.1f} s for {len(pages)} page(s)"
    )
    lines += [f"  {name[5:]}: {seconds:.1f} s" for name, seconds in pages.items()]
    (SCREENSHOTS / "timings.txt").write_text("\n".join(lines) + "\n")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter and capture:
        with (
            capture.global_and_fixture_disabled()
        ):  # teardown output is captured otherwise
            reporter.write_sep("-", "book build and browser timings")
            for line in lines:
                reporter.write_line(line)


# --------------------------------------------------------------------------- the checks of one page

PAGE_PROBLEMS_JS = """
const problems = [];
const count = (selector, what) => {
  const n = document.querySelectorAll(selector).length;
  if (n) problems.push(n + " " + what);
};
count(".output.error, .output.traceback", "error output(s) in executed cells");
count(".output.stderr", "stderr output(s) left in the page");
count(".xl-feedback-fail", "failed exercise check(s)");
count("div.system-message, .problematic", "docutils error(s) / unresolved reference(s)");
count('script[type="application/vnd.jupyter.widget-view+json"]',
      "live widget(s) with no static fallback (dead in the book): use xl.widgets.explorer, no tqdm bars");
count('script[type="application/vnd.jupyter.widget-state+json"]',
      "ipywidgets state(s) saved by the build (it loads widget scripts from a CDN): create no widgets at build time");
if (document.body.innerText.includes("Traceback (most recent call last)")) problems.push("a traceback in the text");
return problems;
"""

MATHJAX_READY_JS = """
const done = arguments[arguments.length - 1];
if (!window.MathJax || !MathJax.startup) { done("MathJax did not load"); return; }
MathJax.startup.promise.then(() => done(null), (error) => done("MathJax failed: " + error));
"""

IMAGES_JS = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
images.forEach((img) => { img.loading = "eager"; });
const settled = () => images.every((img) => img.complete);
const start = Date.now();
(function wait() {
  if (settled() || Date.now() - start > 15000) {
    done(images.filter((img) => img.naturalWidth === 0).map((img) => img.src.slice(0, 80)));
  } else { setTimeout(wait, 50); }
})();
"""


def colab_url(page: str) -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repository = (
        config["repository"]["url"].rstrip("/").removeprefix("https://github.com/")
    )
    prefix = str(config["repository"].get("path_to_book") or "").strip("/")
    path = f"{prefix}/{page}.ipynb" if prefix else f"{page}.ipynb"
    return (
        f"{config['launch_buttons']['colab_url'].rstrip('/')}/github/{repository}/blob/"
        f"{config['repository'].get('branch', 'main')}/{path}"
    )


def console_problems(driver, origin: str) -> list[str]:
    problems = []
    for entry in driver.get_log("browser"):
        message = entry["message"]
        if entry["level"] != "SEVERE" or any(
            noise in message for noise in IGNORED_CONSOLE
        ):
            continue
        if entry["source"] == "javascript" or (
            entry["source"] == "network" and message.startswith(origin)
        ):
            problems.append("console: " + message[:300])
    return problems


def math_problems(driver, origin: str) -> list[str]:
    from selenium.webdriver.common.by import By

    maths = len(driver.find_elements(By.CSS_SELECTOR, ".math"))
    if not maths:
        return []
    sources = [
        s.get_attribute("src")
        for s in driver.find_elements(By.CSS_SELECTOR, "script[src*='mathjax']")
    ]
    problems = [
        f"MathJax loaded from outside the book: {s}"
        for s in sources
        if not s.startswith(origin)
    ]
    error = driver.execute_async_script(MATHJAX_READY_JS)
    if error:
        return problems + [error]
    typeset = len(driver.find_elements(By.CSS_SELECTOR, "mjx-container"))
    if typeset < maths:
        problems.append(f"only {typeset} of {maths} formulas typeset by MathJax")
    errors = len(driver.find_elements(By.CSS_SELECTOR, "mjx-merror"))
    if errors:
        problems.append(f"{errors} formula(s) with TeX errors")
    return problems


def move_control(control, step: int) -> None:
    """Choose the value ``step`` places after the first, as a reader would."""
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    if control.tag_name == "select":
        Select(control).select_by_index(step)
    else:
        control.send_keys(Keys.HOME, *([Keys.ARROW_RIGHT] * step))


def explorer_problems(driver, page: str) -> list[str]:
    """Every static explorer: each control, moved through its values, swaps the picture."""
    from selenium.webdriver.common.by import By

    problems = []
    for k, explorer in enumerate(driver.find_elements(By.CSS_SELECTOR, ".xl-explorer")):
        driver.execute_script(
            "arguments[0].scrollIntoView({block: 'center'})", explorer
        )
        image = explorer.find_element(By.CSS_SELECTOR, "img.xl-explorer-image")
        for control in explorer.find_elements(By.CSS_SELECTOR, "[data-control]"):
            name = control.get_attribute("aria-label")
            values = (
                len(control.find_elements(By.TAG_NAME, "option"))
                if control.tag_name == "select"
                else int(control.get_attribute("max")) + 1
            )
            seen, alts = {image.get_attribute("src")}, set()
            for step in range(1, values):
                move_control(control, step)
                seen.add(image.get_attribute("src"))
                alts.add(image.get_attribute("alt"))
            if values > 1 and len(seen) == 1:
                problems.append(
                    f"explorer {k}: moving {name!r} never changed the picture"
                )
            if values > 1 and not any(f"{name}=" in alt for alt in alts):
                problems.append(
                    f"explorer {k}: the picture's description does not follow {name!r}"
                )
            move_control(control, 0)
        if image.get_attribute("naturalWidth") in (None, "0"):
            problems.append(f"explorer {k}: its picture does not load")
        explorer.screenshot(
            str(SCREENSHOTS / f"{page.replace('/', '_')}_explorer{k}.png")
        )
    return problems


#: the pages that are chapters: the preface and the numbered chapters (book/NN_name)
CHAPTER = re.compile(r"^book/(\d\d)_")

FINISH_JS = r"""
const text = document.body.innerText;
const article = document.querySelector("article, main, [role=main]") || document.body;
// the prose: the article without code, math, outputs, signatures, scripts and explorers
const prose = article.cloneNode(true);
prose.querySelectorAll(
  "pre, code, kbd, samp, script, style, mjx-container, .math, .MathJax, .cell_output, " +
  ".output, .xl-explorer, dt.sig, .sig, .highlight, textarea, .toggle-details"
).forEach((e) => e.remove());
const prosetext = prose.innerText;
const around = (t, i) => JSON.stringify(t.slice(Math.max(0, i - 40), i + 40));
const marks = [];
for (const mark of ["$", "`"]) {
  const i = prosetext.indexOf(mark);
  if (i >= 0) marks.push(mark + " at " + around(prosetext, i));
}
// stream outputs (print) that look like tables: 3+ lines of 3+ columns split by 2+ spaces
const printed = [];
article.querySelectorAll(".cell_output pre, .output pre").forEach((pre) => {
  const lines = pre.innerText.split("\n");
  let run = 0;
  for (const line of lines) {
    run = line.trim().split(/\s{2,}/).length >= 3 ? run + 1 : 0;
    if (run >= 3) { printed.push(JSON.stringify(lines.slice(0, 2).join(" / ").slice(0, 120))); break; }
  }
});
// Markdown tables that were printed as text (a paragraph of pipes)
article.querySelectorAll("p, .output_markdown, .cell_output div").forEach((p) => {
  if (/\|\s*-{3,}\s*\|/.test(p.innerText) && !p.querySelector("table")) {
    printed.push("pipes: " + JSON.stringify(p.innerText.slice(0, 80)));
  }
});
const longLines = [];
article.querySelectorAll(".cell_input pre, div.highlight pre").forEach((pre) => {
  if (pre.closest(".cell_output, .output")) return;
  pre.textContent.split("\n").forEach((line) => {
    if (line.length > 88) longLines.push(line.length + ": " + JSON.stringify(line.slice(0, 60)));
  });
});
// a code block wider than the column scrolls sideways (hidden, collapsed cells have no width)
article.querySelectorAll(".cell_input pre, div.highlight pre").forEach((pre) => {
  if (pre.closest(".cell_output, .output") || pre.clientWidth === 0) return;
  if (pre.scrollWidth > pre.clientWidth + 2) {
    longLines.push("scrolls sideways (" + pre.scrollWidth + " px in " + pre.clientWidth + " px): " +
                   JSON.stringify(pre.textContent.trim().split("\n")[0].slice(0, 50)));
  }
});
const thin = [];
article.querySelectorAll("img.xl-explorer-image").forEach((img, k) => {
  if (img.clientWidth > 0 && img.naturalWidth < 2 * img.clientWidth) {
    thin.push("explorer " + k + ": " + img.naturalWidth + " px drawn, " + img.clientWidth + " px shown");
  }
});
const goals = Array.from(article.querySelectorAll(".chapter-goals")).map((e) => e.innerText);
const exercises = Array.from(
  article.querySelectorAll(".exercise .admonition-title, .exercise-start .admonition-title, p.admonition-title")
).map((e) => e.innerText).filter((t) => /^Exercise\b/.test(t));
const tables = Array.from(article.querySelectorAll("table")).map((t) => ({
  header: Array.from(t.querySelectorAll("thead th")).map((th) => th.innerText.trim()),
  rows: Array.from(t.querySelectorAll("tbody tr")).map((tr) => (tr.querySelector("th, td") || {}).innerText),
}));
const ids = Array.from(article.querySelectorAll("dt.sig[id]")).map((dt) => dt.id);
return {sources: text.includes("sources/"), marks, printed, longLines, thin, goals, exercises, tables, ids};
"""


def finish_problems(driver, page: str) -> list[str]:
    """The finish of the page: citations, rendering, tables, code width, explorers' density,
    the chapter box, exercise numbers, the zoo table and the API page's coverage."""
    found = driver.execute_script(FINISH_JS)
    problems = []
    if found["sources"]:
        problems.append('the text names "sources/": cite the source instead')
    problems += [
        f"literal {m} left in the prose (math or code not rendered)"
        for m in found["marks"]
    ]
    problems += [
        f"a table printed as text, not an HTML table: {p}" for p in found["printed"]
    ]
    problems += [
        f"code line over 88 characters / {line}" for line in found["longLines"]
    ]
    problems += [f"{t}: draw explorer frames at >= 2x density" for t in found["thin"]]
    chapter = CHAPTER.match(page)
    if chapter:
        if not any(
            "Learning objectives" in g and "Prerequisites" in g for g in found["goals"]
        ):
            problems.append(
                "no 'Chapter at a glance' box with learning objectives and prerequisites"
            )
        number = int(chapter.group(1))
        prefix = f"Exercise {number}." if number else "Exercise "
        expected = [f"{prefix}{k}" for k in range(1, len(found["exercises"]) + 1)]
        got = [re.match(r"Exercise [\d.]+", t).group(0) for t in found["exercises"]]
        if got != expected:
            problems.append(f"exercises numbered {got}, expected {expected}")
    if page == "book/zoo":
        import xai_lib as xl

        models = sorted(xl.zoo.available())
        listed = [
            sorted(t["rows"])
            for t in found["tables"]
            if any("accuracy" in h for h in t["header"])
        ]
        if models not in listed:
            problems.append(
                f"the zoo page has no table with one row per zoo model ({len(models)}): "
                f"{listed}"
            )
    if page == "book/api":
        from xai_lib.booktools.api import NAMESPACES, public_names, submodules

        spaces = list(NAMESPACES) + [s for n in NAMESPACES for s in submodules(n)]
        wanted = {f"{ns}.{name}" for ns in spaces for name in public_names(ns)}
        missing = sorted(wanted - set(found["ids"]))
        if missing:
            problems.append(f"the API page does not document {missing}")
    return problems


def full_page_screenshot(driver, path: Path) -> None:
    height = min(
        driver.execute_script("return document.documentElement.scrollHeight"),
        SCREENSHOT_MAX_HEIGHT,
    )
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    driver.execute_script("window.scrollTo(0, 0)")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    path.write_bytes(base64.b64decode(shot["data"]))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_in_a_browser(page, browser, site):
    from selenium.webdriver.common.by import By

    start = time.perf_counter()
    browser.get_log("browser")  # drop the previous page's messages
    browser.get(f"{site}/{page}.html")
    assert browser.execute_script("return document.readyState") == "complete"
    problems = list(browser.execute_script(PAGE_PROBLEMS_JS))
    problems += [
        f"image did not load: {src}" for src in browser.execute_async_script(IMAGES_JS)
    ]
    problems += math_problems(browser, site)
    problems += explorer_problems(browser, page)
    problems += finish_problems(browser, page)
    if (ROOT / f"{page}.ipynb").exists():
        url = colab_url(page)
        if not browser.find_elements(By.CSS_SELECTOR, f'a[href="{url}"]'):
            problems.append(f"no Colab launch button linking to {url}")
    problems += console_problems(browser, site)
    full_page_screenshot(browser, SCREENSHOTS / f"{page.replace('/', '_')}.png")
    TIMINGS[f"page {page}"] = time.perf_counter() - start
    assert problems == [], f"{page}.html:\n" + "\n".join(problems)
