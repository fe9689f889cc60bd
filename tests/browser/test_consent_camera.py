"""The consent selfie in a real browser: Debian's Chromium films a fake camera (a video made from
a real photo), the page takes the picture with getUserMedia onto a canvas and sends it as a
JPEG, and the server compares its face with the training photos (the astronaut's). The
astronaut's own face lets the model train; Grace Hopper's is refused with the reason, and the
training is refused too, with nothing charged."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.camera import filming, take_selfie, write_y4m
from tests.faces_data import grace_hopper
from tests.studio.photos import selfie

pytestmark = pytest.mark.browser
PASSWORD = "a-long-camera-passphrase-3"

SETUP = """
import json
from allauth.account.models import EmailAddress
from accounts.models import User
from credits.actions import grant
from studio import actions
from tests.studio.photos import person_jpeg
out = {}
for email in ("eileen@example.com", "someone@example.com"):
    user = User.objects.create_user(email, PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    grant(user, 100, reason="test", reference=f"test:camera:{email}")
    model = actions.create_model(user, name="Eileen", subject_class="woman")
    actions.add_photos(model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    out[email] = str(model.pk)
print("MODELS " + json.dumps(out))
"""

STATE = """
from credits.actions import get_balance
from studio.models import Consent, PersonalModel
for model in PersonalModel.objects.order_by("user__email"):
    print("STATE", model.user.email, model.status, get_balance(model.user),
          ",".join(c.status for c in Consent.objects.filter(model=model)))
"""


@pytest.fixture(scope="module")
def models(stack):
    printed = stack.shell(SETUP.replace("PASSWORD", repr(PASSWORD)))
    return json.loads(printed.split("MODELS ", 1)[1])


def sign_in(page, base, email):
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/**")


def states(stack) -> dict:
    return {line.split()[1]: line.split()[2:] for line in stack.shell(STATE).splitlines()
            if line.startswith("STATE ")}


@pytest.fixture
def playwright(playwright_session):
    return playwright_session  # the session's one: see tests/browser_fixtures.py


def test_the_persons_own_face_lets_the_model_train(stack, models, playwright, tmp_path):
    video = write_y4m(tmp_path / "eileen.y4m", selfie())
    with filming(playwright, video) as browser:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(20000)
        sign_in(page, stack.base_url, "eileen@example.com")
        model = models["eileen@example.com"]
        page.goto(f"{stack.base_url}/dashboard/models/{model}/review/")
        page.locator("[data-consent-link]").click()
        page.wait_for_url("**/consent/")
        take_selfie(page)
        page.check("input[name=rights_confirmed]")
        page.locator("[data-consent-submit]").click()
        page.wait_for_url("**/review/")
        expect(page.locator("[data-consent]")).to_have_attribute("data-consent", "verified")
        page.get_by_role("button", name=re.compile("Start training")).click()
        page.wait_for_url("**/dashboard/training/**")
    assert states(stack)["eileen@example.com"][0] in ("queued", "training", "ready")


def test_someone_elses_face_is_refused_and_training_with_it(stack, models, playwright,
                                                             tmp_path):
    video = write_y4m(tmp_path / "grace.y4m", selfie(grace_hopper()))
    with filming(playwright, video) as browser:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(20000)
        sign_in(page, stack.base_url, "someone@example.com")
        model = models["someone@example.com"]
        page.goto(f"{stack.base_url}/dashboard/models/{model}/consent/")
        take_selfie(page)
        page.check("input[name=rights_confirmed]")
        page.locator("[data-consent-submit]").click()
        error = page.locator("[data-field-error=selfie]")
        expect(error).to_contain_text("does not match the face in the training photos")
        expect(error).to_contain_text("distance")
        page.goto(f"{stack.base_url}/dashboard/models/{model}/review/")
        expect(page.locator("[data-consent]")).to_have_attribute("data-consent", "mismatch")
        page.get_by_role("button", name=re.compile("Start training")).click()
        expect(page.locator("[data-form-error]")).to_contain_text("did not match")
    status, balance, consents = states(stack)["someone@example.com"]
    assert (status, balance, consents) == ("draft", "105", "mismatch")
