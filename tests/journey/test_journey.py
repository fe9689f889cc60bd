"""One customer's whole journey in a real browser (Debian's Chromium through Playwright) against
a real web server and worker on the offline demo set-up, with billing on a FakeStripe:

landing → sign up (a mistake first: the form keeps its input) → verify the e-mail → create a
model → upload photos (two refused, with their reasons) → try to train on the free credits
(refused: not enough) → buy a credit pack through the faked checkout → train → watch the
progress to ready → generate with the personal model and a style (the prompt helper first) →
the images appear live → favourite, share (the link opened signed out), download,
bulk-download a ZIP → upscale an image and restore its face (new versions) → an instant
preview from the model's photos → a pack run on the model → upgrade the plan
through the faked checkout → a child's model (the parent's statement) trained, and two people
in one picture → the usage page → an API key, and GET /api/v1/me with it → export
the data → delete the account. Training goes through the consent step: refused without it,
then a selfie taken with the browser's camera (Chromium's fake camera, filming the person in the
photos) that matches them.

The journey itself runs once, at desktop size in the light theme. At the three other
combinations (desktop dark, phone light, phone dark) every main page is visited with the
account the journey made, before it is deleted. Every main page, at every combination, is
screenshotted into var/screenshots/<size>-<theme>/ and checked with axe-core (no serious or
critical violations) and for horizontal overflow; at desktop-light each page is also walked
with the keyboard. The findings are gathered and asserted at the end, so one run lists them
all (and var/screenshots/summary.json keeps them)."""

import email
import json
import os
import re
import time
import urllib.request
import zipfile
from email import policy

import pytest
from playwright.sync_api import expect

from tests import faces_data
from tests.browser.camera import take_selfie
from tests.journey.checks import SIZES, PageChecks, write_summary
from tests.studio.photos import blurred_jpeg, encode, person_jpeg, scene

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMAIL = "jo.journey@example.com"
PASSWORD = "a-long-journey-passphrase-7"
BALANCE = "#credit-balance"


def confirmation_link(outbox, address):
    for path in sorted(outbox.glob("*.eml"), reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if address in message["To"]:
            body = message.get_body(preferencelist=("plain",)).get_content()
            return re.search(r"https?://\S+/accounts/confirm-email/\S+/", body).group(0)
    raise AssertionError(f"no mail to {address} in {outbox}")


def balance(value):
    return re.compile(rf"^\s*{value:,}\s*$")


def reload_until(page, locator, pattern, timeout=30):
    """For what arrives by webhook (the page has no live update for it): reload until shown."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            expect(page.locator(locator).first).to_have_text(pattern, timeout=1000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def pay_at_fake_stripe(page, price_label):
    page.wait_for_url(re.compile(r".*/c/pay/.*"))
    expect(page.get_by_role("heading", name=re.compile(price_label))).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.wait_for_url("**/dashboard/billing/**")
    expect(page.locator("[data-toast]").filter(has_text="Thank you")).to_be_visible()


def new_context(browser, size="desktop", theme="light", **kwargs):
    context = browser.new_context(viewport=SIZES[size], color_scheme=theme,
                                  accept_downloads=True, **kwargs)
    # A click that waits for the server (a selfie checked, a form saved) can take long on a
    # machine kept busy by other suites: the wait is generous, the checks are not.
    context.set_default_timeout(60000)
    return context


def error_pages(stack, context, check):
    """403, 404, 429 and 500 as customers see them: rendered by the stack's own templates (a 429
    and a 500 cannot be provoked on demand), shown from its origin so the stylesheet and theme
    script load."""
    printed = stack.shell(
        "import json\n"
        "from django.contrib.auth.models import AnonymousUser\n"
        "from django.template.loader import render_to_string\n"
        "from django.test import RequestFactory\n"
        "request = RequestFactory().get('/x', HTTP_HOST='127.0.0.1')\n"
        "request.user = AnonymousUser()\n"
        "out = {}\n"
        "for name, ctx in [('403', {'exception': ''}), ('403_csrf', {}), ('404', {}), "
        "('429', {'message': 'Too many attempts. Try again in 2 minutes.', "
        "'retry_after': 120}), ('500', None)]:\n"
        "    out[name] = (render_to_string(name + '.html') if ctx is None else "
        "render_to_string(name + '.html', ctx, request))\n"
        "print('PAGES ' + json.dumps(out))\n")
    pages = json.loads(printed.split("PAGES ", 1)[1])
    page = context.new_page()
    page.goto(stack.base_url + "/healthz")
    for name, html in pages.items():
        page.set_content(html)
        expect(page.locator("h1")).to_be_visible()
        check(page, f"error-{name}")
    page.close()


def tour(stack, browser, storage_state, urls, size, theme, check, *, keyboard=False):
    """Every main page, signed in as the journey's customer, then the public ones signed out."""
    context = new_context(browser, size, theme, storage_state=storage_state)
    page = context.new_page()
    for name, path in urls.items():
        page.goto(stack.base_url + path)
        expect(page.locator("main, body").first).to_be_visible()
        assert ("dark" in (page.locator("html").get_attribute("class") or "")) == (
            theme == "dark"), f"{name}: theme {theme} not applied"
        check(page, name, keyboard=keyboard)
    if size == "phone":
        # The menu of a narrow screen opens, and leads somewhere.
        page.goto(stack.base_url + urls["dashboard"])
        page.get_by_label("Menu", exact=True).click()
        menu = page.locator("details[open] nav[aria-label=\"Main menu\"]")
        expect(menu).to_be_visible()
        check(page, "phone-menu-open")
        menu.get_by_role("link", name="Gallery").click()
        page.wait_for_url("**/dashboard/gallery/")
    context.close()

    public = new_context(browser, size, theme)
    page = public.new_page()
    for name, path in {"landing": "/", "sign-in": "/accounts/login/",
                       "sign-up": "/accounts/signup/", "shared-image": urls["shared"]}.items():
        page.goto(stack.base_url + path)
        check(page, f"public-{name}", keyboard=keyboard)
    error_pages(stack, public, check)
    public.close()


def test_customer_journey(journey_stack, browser, stripe_fake, axe_source, findings, tmp_path):
    stack = journey_stack
    started = time.monotonic()
    timings = {}
    checks = {f"{size}-{theme}": PageChecks(f"{size}-{theme}", axe_source, findings)
              for size in SIZES for theme in ("light", "dark")}
    check = checks["desktop-light"]
    context = new_context(browser)
    page = context.new_page()
    base = stack.base_url

    # ----- the landing page, and signing up (a mistake first: the form keeps what was typed)
    page.goto(base + "/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check(page, "landing", keyboard=True)
    page.get_by_role("link", name="Sign up").first.click()
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD + "-typo")
    page.get_by_role("button", name=re.compile("Sign up", re.I)).click()
    expect(page.get_by_text(re.compile("same password", re.I)).first).to_be_visible()
    expect(page.locator("input[name=email]")).to_have_value(EMAIL)
    check(page, "sign-up-error")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name=re.compile("Sign up", re.I)).click()
    expect(page.get_by_text("Check your e-mail")).to_be_visible()
    check(page, "verify-e-mail-sent")

    # ----- verifying the e-mail address
    page.goto(confirmation_link(stack.outbox, EMAIL))
    check(page, "confirm-e-mail")
    page.get_by_role("button", name=re.compile("Confirm", re.I)).click()
    page.wait_for_url("**/dashboard/")
    expect(page.locator(BALANCE).first).to_have_text(balance(5))
    check(page, "dashboard-new")
    page.goto(base + "/dashboard/gallery/")
    expect(page.get_by_text("Your gallery is empty")).to_be_visible()
    check(page, "gallery-empty")

    # ----- creating a model
    page.get_by_role("link", name="Models").first.click()
    expect(page.get_by_text("No models yet")).to_be_visible()
    check(page, "models-empty")
    page.get_by_role("link", name="Create your first model").click()
    page.fill("input[name=name]", "Jo")
    page.click("label:has(input[value=woman])")
    check(page, "model-new", keyboard=True)
    page.get_by_role("button", name="Continue to photos").click()
    page.wait_for_url("**/photos/")
    expect(page.locator("form[data-upload-form]")).to_have_attribute("data-enhanced", "")
    check(page, "model-photos-empty")

    # ----- uploading photos: six good ones, one too blurry, one not a photo at all
    files = {f"jo-{i}.jpg": person_jpeg(i) for i in range(1, 7)}
    files.update({"soft.jpg": blurred_jpeg(9), "notes.jpg": b"not a photo\n"})
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    page.set_input_files("input[name=files]", [str(tmp_path / name) for name in files])
    expect(page.locator("[data-upload-queue] > li")).to_have_count(8)
    check(page, "model-photos-queued")
    page.click("[data-upload-submit]")
    expect(page.locator("[data-upload-queue] > li")).to_have_count(0, timeout=60000)
    expect(page.locator("[data-photo-grid] [data-photo]")).to_have_count(6)
    refused = page.locator("[data-refused-list] [data-refused]")
    expect(refused).to_have_count(2)
    expect(refused.filter(has_text="soft.jpg")).to_contain_text("too blurry")
    expect(refused.filter(has_text="notes.jpg")).to_be_visible()
    expect(page.locator("[data-meter-hint]")).to_contain_text("Enough to train")
    check(page, "model-photos-uploaded")

    # ----- consent: training is refused without it; a selfie from the camera (Chromium's fake
    # camera films the astronaut, who is in the photos) matches, and the review says so
    page.click("[data-continue]")
    page.wait_for_url("**/review/")
    check(page, "model-review")
    expect(page.locator("[data-consent]")).to_have_attribute("data-consent", "missing")
    page.get_by_role("button", name=re.compile("Start training")).click()
    expect(page.locator("[data-form-error]")).to_contain_text("only with their consent")
    page.locator("[data-consent-link]").click()
    page.wait_for_url("**/consent/")
    check(page, "model-consent")
    take_selfie(page)
    page.check("input[name=rights_confirmed]")
    check(page, "model-consent-selfie-taken", keyboard=True)
    page.locator("[data-consent-submit]").click()
    page.wait_for_url("**/review/")
    expect(page.locator("[data-consent]")).to_have_attribute("data-consent", "verified")

    # ----- training on the free credits is refused, with a way out: buy credits
    page.fill("input[name=steps]", "900")
    page.get_by_role("button", name=re.compile("Start training")).click()
    error = page.get_by_text(re.compile("Training costs 20 credits and your balance is 5"))
    expect(error).to_be_visible()
    expect(page.locator("input[name=steps]")).to_have_value("900")  # kept
    check(page, "model-review-not-enough-credits")
    review_url = page.url
    page.get_by_role("link", name=re.compile("Buy credits")).first.click()
    page.wait_for_url("**/dashboard/billing/")
    check(page, "billing-free", keyboard=True)
    page.locator("[data-checkout=pack_100]").click()
    pay_at_fake_stripe(page, r"\$12\.00")
    reload_until(page, BALANCE, balance(105))

    # ----- training, watched to the end without reloading
    page.goto(review_url)
    expect(page.locator("input[name=steps]")).to_have_value("1000")  # the default again
    page.get_by_role("button", name=re.compile("Start training")).click()
    page.wait_for_url("**/dashboard/training/**")
    expect(page.locator("[data-toast]").filter(has_text="has started")).to_be_visible()
    page.evaluate("() => { window.journeyMark = 'same page'; }")
    check(page, "training-in-progress", axe=False)
    expect(page.locator("#training-status")).to_have_attribute("data-status", "succeeded",
                                                              timeout=60000)
    assert page.evaluate("() => window.journeyMark") == "same page"
    expect(page.locator(BALANCE).first).to_have_text(balance(85))
    check(page, "training-done")
    training_url = page.url

    # ----- generating with the personal model and a style: the images appear live
    page.get_by_role("link", name="Models").first.click()
    page.get_by_role("link", name="Jo", exact=True).first.click()
    expect(page.locator("#model-training")).to_have_attribute("data-status", "ready")
    check(page, "model-ready")
    model_url = page.url
    page.get_by_role("link", name="Generate with Jo").click()
    page.wait_for_url("**/dashboard/generate/**")
    expect(page.locator("input[name=base_model][value^='personal:']")).to_be_checked()
    style = page.locator("#field-style label").nth(1)
    style_name = style.locator("span").first.inner_text()
    style.click()
    # The prompt helper first: a few words become a whole prompt (offline rules).
    page.fill("textarea[name=prompt]", "beach sunset")
    page.locator("[data-expand-url]").click()
    expect(page.locator("textarea[name=prompt]")).to_have_value(
        re.compile(r"woman.*beach.*sunset.{20,}", re.I | re.S))  # the subject, then the words
    page.fill("textarea[name=prompt]", "on a sunny balcony with a cup of coffee")
    page.locator("label:has(input[name=num_images][value='2'])").click()
    check(page, "generate", keyboard=True)
    page.get_by_role("button", name="Generate", exact=True).click()
    page.wait_for_url("**/dashboard/generations/**")
    page.evaluate("() => { window.journeyMark = 'same page'; }")
    expect(page.get_by_text("2 of 2 images made")).to_be_visible(timeout=60000)
    expect(page.locator("[data-slot-state=done] img")).to_have_count(2)
    assert page.evaluate("() => window.journeyMark") == "same page"  # live, no reload
    expect(page.get_by_text(re.compile(rf"Jo .*personal model.* · {re.escape(style_name)}"))
           ).to_be_visible()
    expect(page.locator("[data-prompt-sent]")).to_contain_text("woman")  # the trigger word used
    check(page, "generation-done")
    generation_url = page.url
    credits_left = int(page.locator(BALANCE).first.inner_text().replace(",", ""))
    assert credits_left < 85

    # ----- the gallery: favourite, share, download, bulk download
    page.get_by_role("link", name="Gallery").first.click()
    thumbnails = page.locator("a[data-image] img")
    expect(thumbnails).to_have_count(2)
    page.wait_for_function(
        "() => [...document.querySelectorAll('a[data-image] img')]"
        ".every(img => img.complete && img.naturalWidth > 0)")
    check(page, "gallery", keyboard=True)
    thumbnails.first.click()
    dialog = page.locator("#image-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text(style_name).first).to_be_visible()
    favourite = dialog.locator("[data-favorite-form] button")
    favourite.click()
    expect(dialog.locator("[data-favorite-form] button")).to_have_attribute("aria-pressed",
                                                                           "true")
    dialog.get_by_role("button", name="Create a public link").click()
    share_url = dialog.locator("[data-share-url]").inner_text().strip()
    assert "/s/" in share_url
    check(page, "gallery-image-dialog")
    with page.expect_download() as download:
        dialog.get_by_role("link", name=re.compile("Download")).first.click()
    assert download.value.suggested_filename.endswith((".png", ".jpg", ".jpeg", ".webp"))
    assert os.path.getsize(download.value.path()) > 1000
    page.keyboard.press("Escape")
    expect(dialog).not_to_be_visible()
    expect(page.locator("[data-card] [data-star]:not([hidden])")).to_have_count(1)

    # The share link, opened by someone who is not signed in.
    stranger = new_context(browser)
    shared = stranger.new_page()
    shared.goto(share_url)
    expect(shared.locator("img").first).to_be_visible()
    shared.wait_for_function("() => [...document.images].every(i => i.complete)")
    assert "/accounts/login/" not in shared.url
    check(shared, "shared-image-signed-out")
    share_path = share_url.split("127.0.0.1", 1)[1].split(":", 1)[1].split("/", 1)[1]
    stranger.close()

    # Both images in one ZIP.
    page.locator("[data-card] [data-select]").first.check()
    bulk = page.locator("[data-bulk-form]")
    expect(bulk).to_be_visible()
    bulk.locator("[data-select-loaded]").click()
    expect(bulk.locator("[data-selected-label]")).to_have_text(re.compile("2 images selected"))
    check(page, "gallery-selecting")
    with page.expect_download() as download:
        bulk.locator("[data-archive-button]").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        images = [n for n in archive.namelist() if not n.endswith((".txt", ".json", ".csv"))]
    assert len(images) == 2, archive.namelist()
    image_url = base + "/dashboard/images/" + page.locator(
        "[data-card]").first.get_attribute("data-id") + "/"

    # ----- a new version: the image upscaled 2× for its price, linked to its original
    page.goto(image_url)
    upscale = page.locator("[data-operation=upscale_2x]")
    expect(upscale).to_contain_text("1 credit")
    page.once("dialog", lambda dialog: dialog.accept())  # the price, confirmed
    upscale.click()
    page.wait_for_url("**/dashboard/generations/**")
    expect(page.locator("[data-slot-state=done] img")).to_have_count(1, timeout=60000)
    credits_left -= 1
    expect(page.locator(BALANCE).first).to_have_text(balance(credits_left))
    page.goto(image_url)
    page.locator("[data-version-link]").first.click()
    expect(page.get_by_text("Upscale 2× (this image)")).to_be_visible()
    expect(page.locator("[data-original-link]")).to_have_attribute(
        "href", image_url.replace(base, ""))

    # ----- and its face restored, a version of the same size for its own price
    page.goto(image_url)
    restore = page.locator("[data-operation=face_restore]")
    expect(restore).to_contain_text("1 credit")
    page.once("dialog", lambda dialog: dialog.accept())
    restore.click()
    page.wait_for_url("**/dashboard/generations/**")
    expect(page.locator("[data-slot-state=done] img")).to_have_count(1, timeout=60000)
    credits_left -= 1
    expect(page.locator(BALANCE).first).to_have_text(balance(credits_left))

    # ----- instant mode: a preview drawn from the model's photos, priced before it is made
    page.goto(model_url)
    page.locator("[data-instant-link]").click()
    page.wait_for_url("**/dashboard/instant/**")
    expect(page.locator("[data-instant-price]")).to_contain_text("2 credits per image")
    expect(page.locator("[data-instant-licence]")).to_contain_text("non-commercial")
    page.select_option("select[name=num_images]", "1")
    check(page, "instant", keyboard=True)
    page.locator("[data-instant-submit]").click()
    page.wait_for_url("**/dashboard/generations/**")
    expect(page.locator("[data-instant]")).to_be_visible()
    expect(page.locator("[data-slot-state=done] img")).to_have_count(1, timeout=60000)
    credits_left -= 2
    expect(page.locator(BALANCE).first).to_have_text(balance(credits_left))
    check(page, "instant-done")

    # ----- a pack: three pictures in one click, priced before, grouped on their own page
    page.goto(base + "/dashboard/packs/")
    check(page, "packs")
    card = page.locator("[data-pack=cinematic-portraits]")
    run = card.locator("button[type=submit]")
    expect(run).to_contain_text("6 credits")
    page.once("dialog", lambda dialog: dialog.accept())
    run.click()
    page.wait_for_url("**/dashboard/packs/runs/**")
    expect(page.locator("#pack-run")).to_have_attribute("data-finished", "yes", timeout=90000)
    expect(page.locator("[data-pack-item] img")).to_have_count(3)
    credits_left -= 6
    expect(page.locator(BALANCE).first).to_have_text(balance(credits_left))
    check(page, "pack-run-done")

    # ----- upgrading the plan through the faked checkout (Pro: room for a second model)
    page.get_by_role("link", name="Billing").first.click()
    page.locator("[data-checkout=pro]").click()
    pay_at_fake_stripe(page, r"\$40\.00 a month")
    credits_left += 400
    reload_until(page, BALANCE, balance(credits_left))
    expect(page.get_by_text("Pro", exact=True).first).to_be_visible()
    check(page, "billing-pro")

    # ----- two people in one picture: a second model (a child's, so the parent's statement is
    # its consent) trained, then both in one prompt, with the warning about blending faces
    page.goto(base + "/dashboard/models/new/")
    page.fill("input[name=name]", "Kit")
    page.click("label:has(input[value=child])")
    page.get_by_role("button", name="Continue to photos").click()
    page.wait_for_url("**/photos/")
    expect(page.locator("form[data-upload-form]")).to_have_attribute("data-enhanced", "")
    kit = []
    for variant in range(1, 7):
        kit.append(tmp_path / f"kit-{variant}.jpg")
        kit[-1].write_bytes(encode(scene(variant, subject=faces_data.grace_hopper())))
    page.set_input_files("input[name=files]", [str(path) for path in kit])
    page.click("[data-upload-submit]")
    expect(page.locator("[data-photo-grid] [data-photo]")).to_have_count(6, timeout=60000)
    page.click("[data-continue]")
    page.wait_for_url("**/review/")
    page.locator("[data-consent-link]").click()
    page.wait_for_url("**/consent/")
    page.check("input[name=rights_confirmed]")
    page.check("input[name=guardian_confirmed]")
    check(page, "model-consent-guardian")
    page.locator("[data-consent-submit]").click()
    page.wait_for_url("**/review/")
    expect(page.locator("[data-consent]")).to_have_attribute("data-consent", "verified")
    page.get_by_role("button", name=re.compile("Start training")).click()
    page.wait_for_url("**/dashboard/training/**")
    expect(page.locator("#training-status")).to_have_attribute("data-status", "succeeded",
                                                              timeout=60000)
    credits_left -= 20
    page.goto(base + "/dashboard/generate/")
    page.locator("label", has=page.locator("input[name=base_model][value^='personal:']")
                 ).filter(has_text="Jo").click()
    page.locator("details[data-advanced] summary").click()
    page.select_option("select[name=second_model]", label="Kit")
    expect(page.get_by_text("Faces can blend into each other")).to_be_visible()
    page.fill("textarea[name=prompt]", "having a picnic in a park, Jo on the left")
    page.locator("label:has(input[name=num_images][value='1'])").click()
    check(page, "generate-two-people")
    page.get_by_role("button", name="Generate", exact=True).click()
    page.wait_for_url("**/dashboard/generations/**")
    expect(page.get_by_text("1 of 1 image made")).to_be_visible(timeout=60000)
    expect(page.locator("[data-prompt-sent]")).to_contain_text("together")  # both people
    credits_left -= 2
    expect(page.locator(BALANCE).first).to_have_text(balance(credits_left))

    # ----- the usage page
    page.get_by_role("link", name="Usage").first.click()
    page.wait_for_url("**/dashboard/usage/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check(page, "usage", keyboard=True)

    # ----- an API key, and the API called with it
    page.get_by_role("link", name="API keys").first.click()
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    check(page, "api-keys-empty")
    page.fill("input[name=name]", "My laptop")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-api-key").inner_text().strip()
    check(page, "api-keys-created")
    request = urllib.request.Request(base + "/api/v1/me",
                                     headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (localhost)
        me = json.load(response)
    assert me["email"] == EMAIL, me
    assert me["plan"] == "pro", me

    # ----- exporting the data
    page.get_by_label("Account menu").click()
    page.locator("details[open]").get_by_role("link", name="Profile").click()
    check(page, "profile", keyboard=True)
    page.get_by_role("link", name="Export or delete").click()
    check(page, "account-data", keyboard=True)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download my data").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        names = archive.namelist()
        assert any(n.endswith(".json") for n in names), names
        assert sum(n.lower().endswith((".png", ".jpg", ".jpeg", ".webp")) for n in names) >= 2
        account = next(n for n in names if n.endswith(".json"))
        assert EMAIL in archive.read(account).decode()
    timings["journey (desktop light)"] = round(time.monotonic() - started, 1)

    # ----- every main page at the other three combinations, while the account exists
    urls = {
        "dashboard": "/dashboard/", "models": "/dashboard/models/",
        "model": model_url.replace(base, ""), "training": training_url.replace(base, ""),
        "training-list": "/dashboard/training/", "generate": "/dashboard/generate/",
        "generation": generation_url.replace(base, ""), "gallery": "/dashboard/gallery/",
        "image": image_url.replace(base, ""), "credits": "/dashboard/credits/",
        "billing": "/dashboard/billing/", "usage": "/dashboard/usage/",
        "api-keys": "/dashboard/api-keys/", "profile": "/dashboard/profile/",
        "account-data": "/dashboard/account/data/", "account-delete": "/dashboard/account/delete",
        "not-found-signed-in": "/dashboard/images/00000000-0000-0000-0000-000000000000/",
        "shared": "/" + share_path,
    }
    state = context.storage_state()
    for size, theme in (("desktop", "dark"), ("phone", "light"), ("phone", "dark")):
        begun = time.monotonic()
        tour(stack, browser, state, {k: v for k, v in urls.items() if k != "not-found-signed-in"},
             size, theme, checks[f"{size}-{theme}"])
        timings[f"tour ({size} {theme})"] = round(time.monotonic() - begun, 1)
    # The few desktop-light pages the journey itself did not stop on.
    for name in ("credits", "training-list", "image", "account-delete"):
        page.goto(base + urls[name])
        check(page, name, keyboard=True)
    error_pages(stack, context, check)

    # ----- deleting the account (a wrong password first: the form keeps the e-mail typed)
    page.goto(base + "/dashboard/account/data/")
    page.get_by_role("link", name=re.compile("Delete my account")).click()
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", "not-my-password")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("The password is not right.")).to_be_visible()
    expect(page.locator("input[name=email]")).to_have_value(EMAIL)
    check(page, "account-delete-error")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    page.wait_for_url("**/account-deleted/**")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check(page, "account-deleted")
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("input[name=login]")).to_be_visible()  # still on the sign-in form
    assert "/dashboard" not in page.url
    # The subscription was canceled at Stripe with the account.
    assert any(s["status"] == "canceled" for s in stripe_fake.subscriptions.values())
    context.close()

    timings["total"] = round(time.monotonic() - started, 1)
    write_summary(findings, timings)
    assert not findings.problems(), "\n" + findings.problems()
