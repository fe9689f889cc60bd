"""The Hugging Face Hub fake, driven through `huggingface_hub.HfApi`."""

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError


def api(fake, token=None):
    return HfApi(endpoint=fake.url, token=token if token is not None else fake.token)


def test_publish_lora_then_hide_and_delete(hf_fake, tmp_path):
    hub = api(hf_fake)
    assert hub.whoami()["name"] == "likeness"
    url = hub.create_repo("likeness/alice-lora", private=True)
    assert url == f"{hf_fake.url}/likeness/alice-lora" and url.repo_id == "likeness/alice-lora"
    assert hub.create_repo("likeness/alice-lora", private=True, exist_ok=True) == url
    with pytest.raises(HfHubHTTPError) as err:
        hub.create_repo("likeness/alice-lora")
    assert err.value.response.status_code == 409

    weights = b"\x08\x00\x00\x00\x00\x00\x00\x00{}      " + bytes(range(256)) * 4
    info = hub.upload_file(path_or_fileobj=weights, path_in_repo="lora.safetensors",
                           repo_id="likeness/alice-lora", commit_message="Add LoRA weights")
    assert len(info.oid) == 40 and info.commit_url.endswith(info.oid)
    repo = hf_fake.repos["likeness/alice-lora"]
    assert repo.private and repo.files["lora.safetensors"] == weights
    assert repo.commits[-1]["summary"] == "Add LoRA weights"
    commit = hf_fake.calls("POST", "/commit/main$")[-1]
    assert commit.header("content-type") == "application/x-ndjson"
    assert b'"key": "header"' in commit.body

    assert hub.repo_exists("likeness/alice-lora")
    assert hub.model_info("likeness/alice-lora").private is True
    assert "lora.safetensors" in hub.list_repo_files("likeness/alice-lora")
    path = hub.hf_hub_download("likeness/alice-lora", "lora.safetensors",
                               cache_dir=tmp_path / "cache")
    assert open(path, "rb").read() == weights

    # Private repos are invisible without the token.
    anonymous = api(hf_fake, token=False)
    assert not anonymous.repo_exists("likeness/alice-lora")
    assert httpx.get(f"{hf_fake.url}/likeness/alice-lora/resolve/main/lora.safetensors"
                     ).status_code == 401
    hub.update_repo_settings("likeness/alice-lora", private=False)
    assert not repo.private and anonymous.model_info("likeness/alice-lora").private is False
    hub.update_repo_settings("likeness/alice-lora", visibility="private")
    assert repo.private

    hub.delete_repo("likeness/alice-lora")
    assert "likeness/alice-lora" not in hf_fake.repos
    assert not hub.repo_exists("likeness/alice-lora")
    with pytest.raises(RepositoryNotFoundError):
        hub.delete_repo("likeness/alice-lora")
    hub.delete_repo("likeness/alice-lora", missing_ok=True)


def test_organization_namespace_and_forbidden_namespace(hf_fake):
    hub = api(hf_fake)
    hub.create_repo("likeness-org/bob-lora", private=True)
    assert hf_fake.repo("likeness-org/bob-lora").private
    with pytest.raises(HfHubHTTPError) as err:
        hub.create_repo("someone-else/lora")
    assert err.value.response.status_code == 403


def test_missing_repo_and_auth_errors(hf_fake):
    hub = api(hf_fake)
    with pytest.raises(RepositoryNotFoundError) as err:
        hub.model_info("likeness/nothing")
    assert err.value.response.headers["X-Error-Code"] == "RepoNotFound"
    with pytest.raises(HfHubHTTPError) as err:
        api(hf_fake, token="hf_wrong").create_repo("likeness/x")
    assert err.value.response.status_code == 401
    with pytest.raises(RepositoryNotFoundError):
        hub.upload_file(path_or_fileobj=b"x", path_in_repo="a.txt", repo_id="likeness/nothing")


def test_faults(hf_fake):
    hub = api(hf_fake)
    hub.create_repo("likeness/lora", private=True)
    hf_fake.fail(500, path="/commit/")
    with pytest.raises(HfHubHTTPError) as err:
        hub.upload_file(path_or_fileobj=b"x", path_in_repo="a.txt", repo_id="likeness/lora")
    assert err.value.response.status_code == 500
    assert "a.txt" not in hf_fake.repos["likeness/lora"].files
    hf_fake.fail(429, retry_after=3, path="/api/repos/create")
    with pytest.raises(HfHubHTTPError) as err:
        hub.create_repo("likeness/other")
    assert err.value.response.headers["Retry-After"] == "3"
    hf_fake.malformed(path="/api/models/")
    with pytest.raises(ValueError):
        hub.model_info("likeness/lora")
    hf_fake.timeout(1.0, path="/api/repos/create")
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{hf_fake.url}/api/repos/create", json={"name": "late"}, timeout=0.3,
                   headers={"Authorization": f"Bearer {hf_fake.token}"})
    hub.upload_file(path_or_fileobj=b"x", path_in_repo="a.txt", repo_id="likeness/lora")
    assert hf_fake.repos["likeness/lora"].files["a.txt"] == b"x"
