"""The storefront in a real browser: Debian's Chromium, headless, driven by Playwright.

Opens the page, finds and chooses a shopper, marks the first card "not interested" and sees
it leave while the feed refills, opens a path picture, uploads a product photo and sees
look-alike products (shop the look), opens a product page and its marketer panel, at desktop
width and at 375 px.
A screenshot of each step goes to a temporary folder, copied to
``$SHOPGRAPH_SCREENSHOTS`` when that is set. Skipped, saying why, only when Playwright or
Chromium is missing (``make test`` installs Chromium where it can).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from recommend.serve.app import ServeConfig, create_app
from recommend.serve.security import Access
from recommend.serve.state import ServedState
from tests.serve.conftest import free_port

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed (pip install '.[test]')")
CHROMIUM = shutil.which("chromium")



@pytest.fixture
def server(image_demo: tuple[Path, Path], tmp_path: Path) -> Iterator[str]:
    """The storefront of the demo world with pictures, served by uvicorn on a free loopback
    port, in a thread."""
    import uvicorn

    data, art = image_demo
    state = ServedState(art, tmp_path / "state")
    port = free_port()
    config = uvicorn.Config(create_app(state, ServeConfig(access=Access("k"), snapshot_every=0,
                                                          images_dir=data)),
                            host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the server did not start within 30 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=30)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                    "(make test installs it with apt-get where it runs as root)")
def test_storefront_in_chromium(server: str, image_demo: tuple[Path, Path],
                                tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            _walk(browser, server, shots, image_demo[0] / "images" / "products" / "p0003.png")
        finally:
            browser.close()
    wanted = os.environ.get("SHOPGRAPH_SCREENSHOTS")
    if wanted:
        shutil.copytree(shots, wanted, dirs_exist_ok=True)
    assert len(list(shots.glob("*.png"))) == 8


def _walk(browser, server: str, shots: Path, photo: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(server + "/")
    page.get_by_label("Find a shopper by name or id").fill("u0001")
    page.keyboard.press("Enter")  # the keyboard alone finds and chooses a shopper
    chooser = page.locator("button.choose-user").first
    chooser.wait_for()
    page.screenshot(path=shots / "1-search.png")
    chooser.focus()
    page.keyboard.press("Enter")
    cards = page.locator("#feed .card")
    cards.first.wait_for()
    assert cards.count() == 8
    assert page.locator("#profile").get_by_text("Interested in").is_visible()
    page.screenshot(path=shots / "2-feed.png", full_page=True)

    first = cards.first.get_attribute("data-item")
    cards.first.get_by_role("button", name="Not interested").click()
    page.wait_for_function(
        "(item) => !document.querySelector(`#feed .card[data-item='${item}']`)"
        " && document.querySelectorAll('#feed .card').length === 8", arg=first)
    assert page.get_by_role("status").inner_text() == "Removed from the feed"
    page.screenshot(path=shots / "3-not-interested.png", full_page=True)

    card = page.locator("#feed .card:has(ul.why)").first  # a card with paths to draw
    card.get_by_role("button", name="Show why").click()
    card.locator(".picture img").wait_for()
    assert "links to you" in card.locator(".picture img").get_attribute("alt")
    page.screenshot(path=shots / "4-why-picture.png", full_page=True)

    page.get_by_label("Upload a photo").set_input_files(photo)
    page.get_by_role("button", name="Find the look").click()
    looks = page.locator("#look-results .card")
    looks.first.wait_for()
    assert looks.count() == 8
    assert "Looks like your photo" in looks.first.inner_text()
    looks.first.scroll_into_view_if_needed()
    page.screenshot(path=shots / "5-shop-the-look.png", full_page=True)

    card.locator("h3 a").click()
    page.get_by_role("heading", name="Similar items").wait_for()
    assert page.locator(".card").count() > 0
    page.get_by_role("button", name="Who should see this, and who should promote it?").click()
    panel = page.locator("#marketer-panel")
    panel.get_by_text("Together they reach").wait_for()
    assert panel.get_by_role("heading", name="Who should see this").evaluate(
        "(h) => h === document.activeElement")
    assert panel.locator("ol.influencers li").count() == 5
    page.screenshot(path=shots / "6-product.png", full_page=True)
    assert not errors, errors

    phone = browser.new_page(viewport={"width": 375, "height": 800})
    phone.goto(server + "/?user=u0001")
    phone.locator("#feed .card").first.wait_for()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page is {width}px wide at a 375px viewport"
    phone.screenshot(path=shots / "7-phone.png", full_page=True)
    phone.goto(server + "/items/p0003?marketer=1")  # the panel without the script's help
    phone.get_by_text("Together they reach").wait_for()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the marketer panel is {width}px wide at a 375px viewport"
    phone.screenshot(path=shots / "8-phone-marketer.png", full_page=True)
