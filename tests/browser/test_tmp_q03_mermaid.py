import pytest
from pathlib import Path
pytestmark = pytest.mark.browser

def test_mermaid(open_notebook):
    nb = open_notebook(Path("notebooks/03_queue.ipynb").resolve())
    page = nb._page if hasattr(nb, "_page") else nb.page
    page.wait_for_timeout(3000)
    page.get_by_role("heading", name="The picture").first.scroll_into_view_if_needed()
    page.wait_for_timeout(3000)
    print("mermaid:", page.locator(".jp-RenderedMermaid").count(), page.locator(".jp-RenderedMermaid svg").count(),
          "errors:", page.locator(".jp-RenderedMermaid-Error, text=Syntax error").count())
    page.mouse.wheel(0, 300)
    page.wait_for_timeout(1500)
    page.screenshot(path="/tmp/q03_mermaid.png")
