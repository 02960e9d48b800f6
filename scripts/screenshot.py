"""Take the README's screenshot: the page on the offline backend, in Korean.

Run: .venv/bin/python scripts/screenshot.py (needs Debian's chromium; Korean text
needs a CJK font such as fonts-noto-cjk).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.helpers.env import ARGS, CHROMIUM  # noqa: E402
from tests.helpers.server import Server  # noqa: E402

ANSWER = (
    "음... 저희 팀이 결제 서비스를 운영할 때 장애가 자주 났습니다. 당시 배포가 수동이라 "
    "실수가 많았습니다. 제가 배포 자동화를 제안하고 CI 파이프라인을 구축했습니다. "
    "그 결과 장애가 월 4회에서 1회로 줄었습니다."
)


def main() -> None:
    server = Server({"OFFLINE_TOKENS_PER_SECOND": "400"})
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(
                locale="ko-KR", viewport={"width": 1200, "height": 820}, bypass_csp=True
            )
            page.goto(f"http://127.0.0.1:{server.port}/")
            page.get_by_test_id("bank").select_option(
                label="촉박한 마감을 맞춰야 했던 경험을 말해 주세요."
            )
            page.get_by_test_id("answer").fill(ANSWER)
            page.get_by_test_id("ask-feedback").click()
            page.wait_for_function(
                "document.querySelector('[data-testid=status]').dataset.state === 'done'"
            )
            out = Path(__file__).resolve().parent.parent / "docs" / "screenshot.png"
            page.screenshot(path=str(out), full_page=True)
            browser.close()
            print(f"wrote {out}")  # noqa: T201
    finally:
        server.stop()


if __name__ == "__main__":
    main()
