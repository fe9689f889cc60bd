"""A fake of the Hugging Face Hub API for `huggingface_hub.HfApi(endpoint=fake.url, token=...)`.

Serves what Likeness uses: create_repo (exist_ok), update_repo_settings / visibility,
delete_repo, repo_exists / model_info, upload_file / create_commit, list_repo_files (tree),
whoami, and file downloads at `/{repo_id}/resolve/{revision}/{path}`.

Uploads go the way the Hub sends them (docs/providers.md, "Hugging Face Hub"): preupload answers
"lfs" for a file over `LFS_THRESHOLD` bytes or one the repository's .gitattributes sends to LFS
(`*.safetensors`), "regular" otherwise (its content then comes inline, base64, in the NDJSON
commit). An LFS file goes through the LFS batch API (`POST /{repo}.git/info/lfs/objects/batch`),
then a single PUT (basic) or, above `lfs_chunk_size`, one PUT per part followed by a completion
POST (multipart), then the verify POST; the commit names it in an `lfsFile` line, refused when
its object was never uploaded. The upload URLs stand for storage URLs signed for one object (no
Hub token). `validate-yaml` holds a model card to the Hub's metadata rules (here: valid YAML, and
`license: other` needs `license_name` and `license_link`). The SDK must take this path, not Xet:
Likeness sets HF_HUB_DISABLE_XET=1.

State: `fake.repos` maps "namespace/name" (models; "datasets/ns/name" for datasets,
"spaces/ns/name" for spaces) to `HfRepo(repo_id, type, private, files: {path: bytes}, commits)`.
The token's user is `username`; it may also write in `orgs`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass, field
from fnmatch import fnmatch
from typing import Any
from urllib.parse import unquote

import yaml

from fakes.base import (
    FakeServer,
    HttpError,
    Request,
    Response,
    json_response,
    route,
    utcnow_iso,
)
from fakes.huggingface_lfs import LfsStore

TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
GITATTRIBUTES = b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
LFS_THRESHOLD = 10 * 1024 * 1024  # the Hub stores larger files in LFS whatever their name


def _git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass
class HfRepo:
    repo_id: str
    type: str  # model | dataset | space
    private: bool
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[dict] = field(default_factory=list)
    created_at: str = field(default_factory=utcnow_iso)
    gated: Any = False

    @property
    def sha(self) -> str:
        return self.commits[-1]["oid"] if self.commits else "0" * 40

    @property
    def namespace(self) -> str:
        return self.repo_id.split("/")[0]


class FakeHuggingFace(LfsStore, FakeServer):
    name = "huggingface"
    default_token = "hf_fake_test_token"

    def __init__(self, token: str | None = None, *, username: str = "likeness",
                 orgs: tuple[str, ...] = ("likeness-org",),
                 lfs_chunk_size: int = 64 * 1024 * 1024, **kwargs) -> None:
        super().__init__(token, **kwargs)
        self.username = username
        self.orgs = tuple(orgs)
        self.lfs_chunk_size = lfs_chunk_size
        self.reset_state()

    def reset_state(self) -> None:
        self.repos: dict[str, HfRepo] = {}
        self.lfs_objects: dict[str, bytes] = {}  # sha256 hex -> content (verified)
        self._lfs_pending: dict[str, dict] = {}  # oid -> {"size", "secret", "parts": {n: bytes}}
        self.lfs_log: list[tuple[str, str]] = []  # (step, oid): batch, put, part, complete, verify

    # ----- helpers for tests

    @staticmethod
    def key(repo_id: str, repo_type: str = "model") -> str:
        return repo_id if repo_type in (None, "model") else f"{repo_type}s/{repo_id}"

    def repo(self, repo_id: str, repo_type: str = "model") -> HfRepo:
        with self.lock:
            return self.repos[self.key(repo_id, repo_type)]

    # ----- auth, errors

    def authed(self, req: Request) -> bool:
        return req.header("authorization") == f"Bearer {self.token}"

    def check_auth(self, req: Request) -> bool:
        return self.authed(req)

    def auth_error(self, req: Request) -> Response:
        return self.error_response(401, "Invalid credentials in Authorization header")

    def error_response(self, status: int, message: str, code: str | None = None,
                       **extra: Any) -> Response:
        headers = {"X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        return json_response({"error": message, **extra}, status, headers)

    def not_found(self, req: Request) -> Response:
        return self.error_response(404, "Sorry, we can't find the page you are looking for.")

    def _repo_not_found(self, req: Request) -> HttpError:
        # The Hub answers 401 to anonymous callers and 404 to others: never reveals a private repo.
        status = 404 if self.authed(req) else 401
        return HttpError(status, "Repository not found", code="RepoNotFound")

    def _get_repo(self, req: Request, rtype: str, repo_id: str, *, write: bool = False,
                  revision: str | None = None) -> HfRepo:
        repo = self.repos.get(self.key(repo_id, TYPES.get(rtype, rtype)))
        if repo is None or (repo.private and not self.authed(req)):
            raise self._repo_not_found(req)
        if write and not self.authed(req):
            raise HttpError(401, "Invalid credentials in Authorization header")
        if write and repo.namespace not in self._namespaces():
            raise HttpError(403, "You don't have the rights to write to this repository")
        if revision is not None and unquote(revision) != "main":
            raise HttpError(404, f"Invalid rev id: {unquote(revision)}", code="RevisionNotFound")
        return repo

    def _namespaces(self) -> set[str]:
        return {self.username, *self.orgs}

    def _commit(self, repo: HfRepo, summary: str, description: str = "") -> str:
        oid = hashlib.sha1(f"{repo.repo_id}:{len(repo.commits)}:{time.time_ns()}".encode(),
                           usedforsecurity=False).hexdigest()
        repo.commits.append({"oid": oid, "summary": summary, "description": description,
                             "date": utcnow_iso(), "files": sorted(repo.files)})
        return oid

    # ----- account

    @route("GET", r"/api/whoami-v2")
    def whoami(self, req: Request) -> Response:
        return json_response({
            "type": "user", "id": "fake" + self.username, "name": self.username,
            "fullname": self.username, "email": f"{self.username}@example.com",
            "canPay": False, "orgs": [{"type": "org", "name": org, "fullname": org}
                                      for org in self.orgs],
            "auth": {"type": "access_token",
                     "accessToken": {"displayName": "fake", "role": "write"}},
        })

    # ----- repos

    @route("POST", r"/api/validate-yaml")
    def validate_yaml(self, req: Request) -> Response:
        """The Hub checks a model card's YAML front matter before a commit that adds one."""
        content = (req.json() or {}).get("content", "")
        if not content.startswith("---"):
            return json_response({"errors": [], "warnings": [
                {"message": "empty or missing yaml metadata in repo card"}]})
        head, sep, _ = content[3:].partition("\n---")
        if not sep:
            return json_response({"errors": [{"message": "unterminated YAML front matter"}]},
                                 400)
        try:
            meta = yaml.safe_load(head) or {}
        except yaml.YAMLError as exc:
            return json_response({"errors": [{"message": f"invalid YAML: {exc}"}]}, 400)
        errors = []
        if not isinstance(meta, dict):
            errors.append("the metadata must be a mapping")
        elif meta.get("license") == "other":
            errors += [f'"{name}" must be set when "license" is "other"'
                       for name in ("license_name", "license_link") if not meta.get(name)]
        if errors:
            return json_response({"errors": [{"message": m} for m in errors]}, 400)
        return json_response({"errors": [], "warnings": []})

    @route("POST", r"/api/repos/create")
    def create_repo(self, req: Request) -> Response:
        body = self.body_json(req)
        name = body.get("name")
        namespace = body.get("organization") or self.username
        rtype = body.get("type") or "model"
        if not name or rtype not in TYPES.values():
            return self.error_response(400, "Invalid repo name or type")
        if namespace not in self._namespaces():
            return self.error_response(
                403, f'You don\'t have the rights to create a {rtype} under the namespace '
                     f'"{namespace}"')
        if "visibility" in body:
            if body["visibility"] not in ("public", "private"):
                return self.error_response(400, "Invalid visibility")
            private = body["visibility"] == "private"
        else:
            private = bool(body.get("private", False))
        repo_id = f"{namespace}/{name}"
        key = self.key(repo_id, rtype)
        prefix = "" if rtype == "model" else f"{rtype}s/"
        url = f"{self.url}/{prefix}{repo_id}"
        with self.lock:
            if key in self.repos:
                return self.error_response(409, f"You already created this {rtype} repo",
                                           code="RepoAlreadyExists", url=url)
            repo = HfRepo(repo_id, rtype, private, files={".gitattributes": GITATTRIBUTES})
            self._commit(repo, "initial commit")
            self.repos[key] = repo
        return json_response({"url": url, "name": repo_id, "id": "fake" + repo.sha[:24]})

    @route("DELETE", r"/api/repos/delete")
    def delete_repo(self, req: Request) -> Response:
        body = self.body_json(req)
        namespace = body.get("organization") or self.username
        repo_id = f"{namespace}/{body.get('name')}"
        key = self.key(repo_id, body.get("type") or "model")
        with self.lock:
            if key not in self.repos:
                raise self._repo_not_found(req)
            if namespace not in self._namespaces():
                return self.error_response(403, "You don't have the rights to delete this repo")
            del self.repos[key]
        return Response(200, b"", None)

    @route("PUT", r"/api/(?P<rtype>models|datasets|spaces)/(?P<repo_id>[^/]+/[^/]+)/settings")
    def settings(self, req: Request, rtype: str, repo_id: str) -> Response:
        body = self.body_json(req)
        with self.lock:
            repo = self._get_repo(req, rtype, repo_id, write=True)
            if "visibility" in body:
                if body["visibility"] not in ("public", "private"):
                    return self.error_response(400, "Invalid visibility")
                repo.private = body["visibility"] == "private"
            if "private" in body:
                repo.private = bool(body["private"])
            if "gated" in body:
                repo.gated = body["gated"]
        return json_response({})

    @route("GET", r"/api/(?P<rtype>models|datasets|spaces)/(?P<repo_id>[^/]+/[^/]+)"
                  r"(?:/revision/(?P<revision>[^/]+))?", auth=False)
    def repo_info(self, req: Request, rtype: str, repo_id: str, revision: str | None) -> Response:
        with self.lock:
            repo = self._get_repo(req, rtype, repo_id, revision=revision)
            last = repo.commits[-1]["date"] if repo.commits else repo.created_at
            info = {
                "_id": "fake" + hashlib.md5(repo_id.encode(), usedforsecurity=False).hexdigest(),
                "id": repo_id, "author": repo.namespace, "sha": repo.sha,
                "lastModified": last, "createdAt": repo.created_at, "private": repo.private,
                "disabled": False, "gated": repo.gated, "downloads": 0, "likes": 0, "tags": [],
                "siblings": [{"rfilename": path} for path in sorted(repo.files)],
                "usedStorage": sum(len(d) for d in repo.files.values()),
            }
            if repo.type == "model":
                info["modelId"] = repo_id
            return json_response(info)

    @route("GET", r"/api/(?P<rtype>models|datasets|spaces)/(?P<repo_id>[^/]+/[^/]+)/tree/"
                  r"(?P<revision>[^/]+)(?:/(?P<path>.*))?", auth=False)
    def tree(self, req: Request, rtype: str, repo_id: str, revision: str, path: str | None
             ) -> Response:
        with self.lock:
            repo = self._get_repo(req, rtype, repo_id, revision=revision)
            prefix = (unquote(path).strip("/") + "/") if path else ""
            recursive = req.arg("recursive") in ("1", "true", "True")
            entries, folders = [], set()
            for name, data in sorted(repo.files.items()):
                if not name.startswith(prefix):
                    continue
                rest = name[len(prefix):]
                if "/" in rest and not recursive:
                    folders.add(prefix + rest.split("/")[0])
                    continue
                entries.append({"type": "file", "oid": _git_blob_sha(data), "size": len(data),
                                "path": name})
            entries += [{"type": "directory", "oid": "0" * 40, "size": 0, "path": f}
                        for f in sorted(folders)]
            return json_response(entries)

    # ----- upload

    @route("POST", r"/api/(?P<rtype>models|datasets|spaces)/(?P<repo_id>[^/]+/[^/]+)/preupload/"
                   r"(?P<revision>[^/]+)")
    def preupload(self, req: Request, rtype: str, repo_id: str, revision: str) -> Response:
        body = self.body_json(req)
        with self.lock:
            repo = self._get_repo(req, rtype, repo_id, write=True, revision=revision)
            files = []
            for item in body.get("files") or []:
                path, size = item.get("path"), item.get("size")
                if not isinstance(path, str) or not isinstance(size, int) or "sample" not in item:
                    return self.error_response(400, "Each file needs path, size and sample")
                existing = repo.files.get(path)
                files.append({"path": path, "uploadMode": self._upload_mode(repo, path, size),
                              "shouldIgnore": False,
                              "oid": _git_blob_sha(existing) if existing is not None else None})
            return json_response({"files": files, "commitOid": repo.sha})

    @staticmethod
    def _upload_mode(repo: HfRepo, path: str, size: int) -> str:
        lfs_patterns = [line.split()[0] for line in
                        repo.files.get(".gitattributes", b"").decode().splitlines()
                        if "filter=lfs" in line]
        if size > LFS_THRESHOLD or any(fnmatch(path.rsplit("/", 1)[-1], pattern)
                                       for pattern in lfs_patterns):
            return "lfs"
        return "regular"

    @route("POST", r"/api/(?P<rtype>models|datasets|spaces)/(?P<repo_id>[^/]+/[^/]+)/commit/"
                   r"(?P<revision>[^/]+)")
    def commit(self, req: Request, rtype: str, repo_id: str, revision: str) -> Response:
        try:
            lines = [json.loads(line) for line in req.body.splitlines() if line.strip()]
        except ValueError:
            return self.error_response(400, "Invalid NDJSON payload")
        if not lines or lines[0].get("key") != "header":
            return self.error_response(400, "The first line must be the commit header")
        header = lines[0].get("value") or {}
        if not header.get("summary"):
            return self.error_response(400, "Missing commit summary")
        with self.lock:
            repo = self._get_repo(req, rtype, repo_id, write=True, revision=revision)
            if header.get("parentCommit") and header["parentCommit"] != repo.sha:
                return self.error_response(412, "A commit has happened since. Please refresh "
                                                "and try again.")
            files, lfs_paths = dict(repo.files), set()
            for line in lines[1:]:
                key, value = line.get("key"), line.get("value") or {}
                path = value.get("path")
                if key == "file":
                    if value.get("encoding") != "base64":
                        return self.error_response(400, "Only base64 encoding is supported")
                    content = base64.b64decode(value.get("content") or "")
                    if self._upload_mode(repo, path, len(content)) == "lfs":
                        return self.error_response(
                            400, f"{path}: this file must be uploaded with LFS (see preupload)")
                    files[path] = content
                elif key == "deletedFile":
                    if path not in files:
                        return self.error_response(404, f"File not found: {path}",
                                                   code="EntryNotFound")
                    files.pop(path)
                elif key == "deletedFolder":
                    prefix = path.rstrip("/") + "/"
                    files = {p: d for p, d in files.items() if not p.startswith(prefix)}
                elif key == "lfsFile":
                    data = self.lfs_objects.get(value.get("oid"))
                    if value.get("algo") != "sha256" or data is None or len(data) != value.get(
                            "size"):
                        return self.error_response(
                            422, f"{path}: Your push was rejected because an LFS pointer "
                                 "pointed to a file that does not exist")
                    files[path] = data
                    lfs_paths.add(path)
                else:
                    return self.error_response(400, f"Unknown operation {key!r}")
            repo.files = files
            oid = self._commit(repo, header["summary"], header.get("description") or "")
            prefix = "" if repo.type == "model" else f"{repo.type}s/"
            return json_response({"commitUrl": f"{self.url}/{prefix}{repo_id}/commit/{oid}",
                                  "commitOid": oid, "pullRequestUrl": None})

    # ----- downloads

    @route("GET", r"/(?:(?P<rtype>datasets|spaces)/)?(?P<repo_id>[^/]+/[^/]+)/resolve/"
                  r"(?P<revision>[^/]+)/(?P<path>.+)", auth=False)
    @route("HEAD", r"/(?:(?P<rtype>datasets|spaces)/)?(?P<repo_id>[^/]+/[^/]+)/resolve/"
                   r"(?P<revision>[^/]+)/(?P<path>.+)", auth=False)
    def resolve(self, req: Request, rtype: str | None, repo_id: str, revision: str, path: str
                ) -> Response:
        with self.lock:
            repo = self._get_repo(req, rtype or "models", repo_id, revision=revision)
            data = repo.files.get(unquote(path))
            if data is None:
                return self.error_response(404, "Entry not found", code="EntryNotFound")
            return Response(200, data, "application/octet-stream",
                            {"ETag": f'"{_git_blob_sha(data)}"', "X-Repo-Commit": repo.sha})
