"""What the default storage holds, for tests that prove files were kept or removed."""

from django.core.files.storage import default_storage


def stored_names() -> list[str]:
    """Every file name in the default storage, sorted."""
    found = []

    def walk(path):
        if not default_storage.exists(path or "."):
            return
        dirs, files = default_storage.listdir(path)
        found.extend(f"{path}/{name}" if path else name for name in files)
        for name in dirs:
            walk(f"{path}/{name}" if path else name)

    walk("")
    return sorted(found)
