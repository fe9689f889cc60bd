"""The step-2 upload in a real browser (static/js/upload.js): previews, removal before upload,
per-photo requests, refused photos with their reasons, drag and drop, and removal after upload."""

import base64
import os
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser_fixtures import ROOT
from tests.studio.photos import blurred_jpeg, person_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def signed_in(stack, page):
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["DATA_DIR"] = str(stack.data_dir)
    subprocess.run([sys.executable, "manage.py", "create_demo_account"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    page.goto(stack.base_url + "/accounts/login/")
    page.fill("input[name=login]", "demo@example.com")
    page.fill("input[name=password]", "likeness-demo")
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/")
    return page


def test_upload_with_previews_progress_refusals_and_removal(signed_in, stack, tmp_path):
    page = signed_in
    files = {f"good-{i}.jpg": person_jpeg(i) for i in range(1, 5)}
    files.update({"soft.jpg": blurred_jpeg(9), "notes.jpg": b"not a photo\n"})
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)

    page.goto(stack.base_url + "/dashboard/models/new/")
    page.fill("input[name=name]", "Browser Alice")
    page.click("label:has(input[value=woman])")
    page.click("button:has-text('Continue to photos')")
    page.wait_for_url("**/photos/")
    expect(page.locator("form[data-upload-form]")).to_have_attribute("data-enhanced", "")

    page.set_input_files("input[name=files]", [str(tmp_path / name) for name in files])
    queue = page.locator("[data-upload-queue] > li")
    expect(queue).to_have_count(6)
    expect(page.locator("[data-upload-label]")).to_have_text("Upload 6 photos")
    page.wait_for_function(
        "() => document.querySelector('[data-upload-queue] img').naturalWidth > 0")
    queue.nth(3).locator("[data-tile-remove]").click()  # good-4, dropped before upload
    expect(page.locator("[data-upload-label]")).to_have_text("Upload 5 photos")

    page.click("[data-upload-submit]")
    expect(queue).to_have_count(0, timeout=30000)
    grid = page.locator("[data-photo-grid] [data-photo]")
    expect(grid).to_have_count(3)
    refused = page.locator("[data-refused-list] [data-refused]")
    expect(refused).to_have_count(2)
    expect(refused.nth(0)).to_contain_text("soft.jpg")
    expect(refused.nth(0)).to_contain_text("too blurry")
    expect(refused.nth(1)).to_contain_text("unsupported_format")
    expect(page.locator("[data-meter-count]")).to_have_text("3")
    expect(page.locator("[data-meter-hint]")).to_contain_text("Add 2 more")

    # Drag and drop two more onto the drop zone.
    payload = [{"name": f"dropped-{i}.jpg", "b64": base64.b64encode(person_jpeg(i)).decode()}
               for i in (5, 6)]
    transfer = page.evaluate_handle("""(files) => {
        const transfer = new DataTransfer();
        for (const f of files) {
            const bytes = Uint8Array.from(atob(f.b64), c => c.charCodeAt(0));
            transfer.items.add(new File([bytes], f.name, {type: "image/jpeg"}));
        }
        return transfer;
    }""", payload)
    page.dispatch_event("[data-dropzone]", "drop", {"dataTransfer": transfer})
    expect(queue).to_have_count(2)
    page.click("[data-upload-submit]")
    expect(grid).to_have_count(5, timeout=30000)
    expect(page.locator("[data-meter-hint]")).to_contain_text("Enough to train")

    # Remove a stored photo: it goes from the page and from the model.
    grid.first.locator("button").click()
    expect(grid).to_have_count(4)
    page.reload()
    expect(page.locator("[data-photo-grid] [data-photo]")).to_have_count(4)
    thumbnails = page.locator("[data-photo-grid] img")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-photo-grid] img')]"
        ".every(img => img.complete && img.naturalWidth > 0)")
    expect(thumbnails).to_have_count(4)
