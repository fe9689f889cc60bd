"""Benchmark: from the provider's answer to the image on the customer's screen, in Chromium.

Runs the stack as the browser tests do (tests/browser_fixtures.running_stack: `runserver` and a
`db_worker` on a fresh SQLite database) against a fake Together AI that takes --seconds per
request and notes the moment each answer leaves it. A signed-in Chromium (Debian's, through
Playwright) keeps two pages open: the gallery, and the generate page, where it asks for one
image at a time; the generate page goes on to the generation's own page, as a customer's does.
Each page notes, in the page itself, when each image's thumbnail has loaded. Prints, per page,
the median and p95 of "answer sent -> thumbnail loaded" (target: p95 <= 1 s, issue 21) and how
the page learns of the image (its polling interval), with the requests per second an open page
costs the server while it waits and once all is done.

    .venv/bin/python bench/live.py [--images 20] [--seconds 1.5]
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import fakes.base  # noqa: E402
from fakes import FakeTogether  # noqa: E402
from tests.browser_fixtures import CHROMIUM, running_stack  # noqa: E402

fakes.base._Handler.disable_nagle_algorithm = True  # as bench/generation.py says why

EMAIL, PASSWORD = "live@example.com", "live-bench-password-1"

# In each page: when each [data-image] card's thumbnail has loaded (ms since the epoch), and
# every request the page made to the server.
OBSERVER = """
window.__loaded = {};
const note = (img) => {
  const card = img.closest('[data-image]');
  if (!card || window.__loaded[card.dataset.image]) return;
  const mark = () => { window.__loaded[card.dataset.image] ||= Date.now(); };
  if (img.complete && img.naturalWidth) mark(); else img.addEventListener('load', mark);
};
new MutationObserver(() => document.querySelectorAll('[data-image] img').forEach(note))
  .observe(document, {subtree: true, childList: true});
"""


class TimedTogether(FakeTogether):
    """FakeTogether that notes when each answer is sent (the end of the provider's work)."""

    def reset_state(self) -> None:
        super().reset_state()
        self.answered: dict[str, float] = {}

    def generate(self, req):
        response = super().generate(req)
        body = self.body_json(req)
        if isinstance(body, dict):
            self.answered[body.get("prompt", "")] = time.time()
        return response


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def requests_per_second(page, counter: dict, page_name: str, seconds: float) -> float:
    """The requests one open page made in `seconds` (Playwright notes them while it waits)."""
    before = counter[page_name]
    page.wait_for_timeout(seconds * 1000)
    return (counter[page_name] - before) / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=1.5)
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        raise SystemExit("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    fake = TimedTogether(generation_seconds=args.seconds).start()
    data_dir = Path(tempfile.mkdtemp(prefix="likeness-bench-live-"))
    env = {"TOGETHER_API_KEY": fake.token, "TOGETHER_BASE_URL": fake.url,
           "GENERATION_PROVIDERS": "together", "LOG_LEVEL": "WARNING",
           "LIKENESS_VALIDATION": "0"}
    try:
        with running_stack(data_dir, env) as stack, sync_playwright() as playwright:
            stack.shell(
                "from accounts.models import User; from credits.actions import grant\n"
                f"u = User.objects.create_user({EMAIL!r}, {PASSWORD!r})\n"
                "from allauth.account.models import EmailAddress\n"
                "EmailAddress.objects.create(user=u, email=u.email, verified=True, "
                "primary=True)\n"
                f"grant(u, {args.images * 10}, reason='bench', reference='bench')")
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"])
            context = browser.new_context(bypass_csp=True)  # for the page-side timing only
            context.add_init_script(OBSERVER)
            counter = {"generate": 0, "gallery": 0}
            login = context.new_page()
            login.goto(stack.base_url + "/accounts/login/")
            login.fill("input[name=login]", EMAIL)
            login.fill("input[name=password]", PASSWORD)
            login.click("button[type=submit]")
            login.wait_for_url(lambda url: "/accounts/login/" not in url)
            login.close()
            gallery, generate = context.new_page(), context.new_page()
            gallery.on("request", lambda r: counter.__setitem__("gallery",
                                                                 counter["gallery"] + 1))
            generate.on("request", lambda r: counter.__setitem__("generate",
                                                                  counter["generate"] + 1))
            gallery.goto(stack.base_url + "/dashboard/gallery/")
            on_generate, on_gallery, busy_rps = [], [], []
            for i in range(args.images):
                prompt = f"a lighthouse at dusk, study {i}"
                generate.goto(stack.base_url + "/dashboard/generate/")
                generate.fill("textarea[name=prompt]", prompt)
                generate.check("input[name=num_images][value='1']", force=True)
                generate.click("form[data-generate-form] button[type=submit]")
                generate.wait_for_url("**/dashboard/generations/**")
                if i == 0:  # what an open page costs the server while the image is made
                    busy_rps.append(requests_per_second(generate, counter, "generate",
                                                        args.seconds / 2))
                card = generate.wait_for_selector("#generation-status [data-image] img",
                                                  timeout=60_000)
                image_id = card.evaluate("img => img.closest('[data-image]').dataset.image")
                generate.wait_for_function(f"window.__loaded[{image_id!r}]", timeout=30_000)
                answered = fake.answered[prompt]
                on_generate.append(generate.evaluate(f"window.__loaded[{image_id!r}]") / 1000
                                   - answered)
                try:
                    gallery.wait_for_function(f"window.__loaded[{image_id!r}]", timeout=5_000)
                except PlaywrightTimeout:
                    continue  # the open gallery did not show it
                on_gallery.append(gallery.evaluate(f"window.__loaded[{image_id!r}]") / 1000
                                  - answered)
            idle_generate = requests_per_second(generate, counter, "generate", 3)
            idle_gallery = requests_per_second(gallery, counter, "gallery", 3)
            browser.close()
    finally:
        fake.stop()
        shutil.rmtree(data_dir, ignore_errors=True)

    print(f"images: {args.images}, one at a time; fake provider {args.seconds:.1f} s a request")
    print(f"generate page: answer -> thumbnail loaded: median "
          f"{statistics.median(on_generate) * 1000:.0f} ms, p95 "
          f"{percentile(on_generate, 0.95) * 1000:.0f} ms (target p95 <= 1000 ms)")
    if on_gallery:
        print(f"open gallery: answer -> thumbnail loaded: median "
              f"{statistics.median(on_gallery) * 1000:.0f} ms, p95 "
              f"{percentile(on_gallery, 0.95) * 1000:.0f} ms, {len(on_gallery)} of "
              f"{args.images} shown (target p95 <= 1000 ms)")
    else:
        print(f"open gallery: answer -> thumbnail loaded: none of {args.images} shown without a "
              "reload (target p95 <= 1000 ms)")
    print(f"requests an open page makes: generate page while an image is made "
          f"{busy_rps[0]:.1f}/s, once it is done {idle_generate:.1f}/s; gallery "
          f"{idle_gallery:.1f}/s")


if __name__ == "__main__":
    main()
