"""What the browser tests that look at a page on a desktop window and on a phone share: the two
window sizes, and a picture of a step kept when GRANTFLOW_SCREENSHOTS names a folder."""

import os

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 375, "height": 740}}


def shot(page, name: str, full_page: bool = False) -> None:
    folder = os.environ.get("GRANTFLOW_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=full_page)
