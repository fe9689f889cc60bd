"""Images of a child's personal model are never shared by link: the web, the API and the
gallery's own page all refuse, and the refusal changes nothing."""

import pytest
from django.urls import reverse

from gallery import sharing
from generation.models import Image
from tests.factories import key_client, make_image, make_personal_model


@pytest.fixture
def child_image(alice):
    model = make_personal_model(alice, name="Kid", trigger_word="mibalo", subject_class="child")
    image = make_image(alice)
    image.personal_model = model
    image.save()
    return image


def test_the_web_refuses_to_share_and_says_why(alice_client, child_image):
    page = alice_client.get(reverse("image_detail", args=[child_image.pk])).content.decode()
    assert "data-share-refused" in page and "Create a public link" not in page
    response = alice_client.post(reverse("image_share", args=[child_image.pk]), follow=True)
    assert "can't be shared by link" in response.content.decode()
    assert Image.objects.get(pk=child_image.pk).share_token is None


def test_the_api_refuses_with_403(alice, child_image):
    response = key_client(alice).post(f"/api/v1/images/{child_image.pk}/share")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "sharing_not_allowed"
    assert Image.objects.get(pk=child_image.pk).share_token is None


def test_a_link_made_before_is_dead(client, child_image):
    Image.objects.filter(pk=child_image.pk).update(share_token="x" * 43)
    assert client.get("/s/" + "x" * 43).status_code == 404
    with pytest.raises(sharing.SharingNotAllowed):
        sharing.share(child_image)
