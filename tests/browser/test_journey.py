"""The foundation's whole path in a real browser against a real web server and worker:
sign up, verify the e-mail from the outbox, generate, see the images in the gallery, sign out."""

import email
import re
from email import policy

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def confirmation_link(outbox, address):
    for path in sorted(outbox.glob("*.eml"), reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if address in message["To"]:
            body = message.get_body(preferencelist=("plain",)).get_content()
            return re.search(r"https?://\S+/accounts/confirm-email/\S+/", body).group(0)
    raise AssertionError(f"no mail to {address} in {outbox}")


def test_sign_up_verify_generate_and_sign_out(stack, page):
    address = "journey@example.com"
    page.goto(stack.base_url + "/")
    page.get_by_role("link", name="Sign up").first.click()
    page.fill("input[name=email]", address)
    page.fill("input[name=password1]", "a-long-journey-passphrase-7")
    page.fill("input[name=password2]", "a-long-journey-passphrase-7")
    page.get_by_role("button", name=re.compile("Sign up", re.I)).click()
    expect(page.get_by_text("Check your e-mail")).to_be_visible()

    page.goto(confirmation_link(stack.outbox, address))
    page.get_by_role("button", name=re.compile("Confirm", re.I)).click()
    page.wait_for_url("**/dashboard/**")
    expect(page.locator("#credit-balance").first).to_have_text(re.compile(r"^\s*5\s*$"))

    page.get_by_role("link", name="Generate").first.click()
    page.fill("textarea[name=prompt]", "a red kite over the dunes")
    page.locator("label:has(input[name=num_images][value='2'])").click()
    page.get_by_role("button", name="Generate", exact=True).click()
    page.wait_for_url("**/dashboard/generations/**")
    # Live progress: the page polls until both images are stored, without a reload.
    expect(page.get_by_text("2 of 2 images made")).to_be_visible(timeout=30000)
    expect(page.locator("#credit-balance").first).to_have_text(re.compile(r"^\s*3\s*$"))

    page.get_by_role("link", name="Gallery").first.click()
    thumbnails = page.locator("a[data-image] img")
    expect(thumbnails).to_have_count(2)
    page.wait_for_function(
        "() => [...document.querySelectorAll('a[data-image] img')]"
        ".every(img => img.complete && img.naturalWidth > 0)")
    thumbnails.first.click()
    dialog = page.locator("#image-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("a red kite over the dunes").first).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).not_to_be_visible()

    page.get_by_label("Account menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.goto(stack.base_url + "/dashboard/gallery/")
    assert "/accounts/login/" in page.url
