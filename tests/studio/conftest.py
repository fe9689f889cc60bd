import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from credits.actions import grant
from studio import actions
from tests.factories import consent_for
from tests.studio.photos import person_jpeg


def upload(name, data, content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def model(alice):
    """A draft of alice's with no photos yet; alice can afford its training."""
    grant(alice, 100, reason="test", reference="test:studio-web")
    return actions.create_model(alice, name="Alice", subject_class="woman")


@pytest.fixture
def model_with_photos(model):
    """The draft with five good photos: just enough to queue."""
    accepted, rejected = actions.add_photos(
        model, [(f"{i}.jpg", person_jpeg(i)) for i in range(5)])
    assert len(accepted) == 5 and not rejected
    consent_for(model)  # the consent selfie matched (tests/studio/test_consent.py)
    return model


@pytest.fixture
def photo(model_with_photos):
    return model_with_photos.photos.first()
