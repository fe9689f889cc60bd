"""A customer's data rights: export everything, delete everything.

Deletion removes every file of the account from our storage at once (training photos and
thumbnails, images and thumbnails, training ZIPs, weights), cancels the Stripe subscription,
and records what lives elsewhere (destination models at training providers, Hugging Face
repositories, copies at Cloudflare Images) as clean-ups that the sweep retries until done.
The receipt (AccountDeletion) keeps no personal data and shows the clean-ups finishing."""

import json
import logging
import secrets
import zipfile

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountDeletion
from api.models import ApiKey
from billing import actions as billing
from billing.models import Payment, Subscription
from credits.models import CreditEntry
from gallery.actions import delete_images
from gallery.archive import ZipPipe
from generation.models import Generation, Image
from jobs.queue import enqueue
from studio.actions import delete_model
from studio.models import Cleanup, Consent, PersonalModel, TrainingPhoto, TrainingRun
from studio.tasks import sweep_cleanups

logger = logging.getLogger(__name__)
CHUNK = 64 * 1024


class DeletionBlocked(Exception):
    """Something must not be left behind (a live subscription Stripe could not cancel)."""


def _iso(value):
    return value.isoformat() if value else None


def account_data(user) -> dict:
    """Everything we hold about the account, as JSON-ready data (files go in the ZIP)."""
    def rows(queryset, *fields, **computed):
        out = []
        for obj in queryset:
            row = {}
            for field in fields:
                value = getattr(obj, field)
                row[field] = _iso(value) if hasattr(value, "isoformat") else (
                    str(value) if not isinstance(value, (int, float, bool, str, list, dict,
                                                         type(None))) else value)
            for name, fn in computed.items():
                row[name] = fn(obj)
            out.append(row)
        return out

    return {
        "exported_at": timezone.now().isoformat(),
        "account": {"id": str(user.public_id), "email": user.email, "name": user.name,
                    "plan": user.plan, "date_joined": _iso(user.date_joined),
                    "last_login": _iso(user.last_login)},
        "email_addresses": rows(EmailAddress.objects.filter(user=user), "email", "verified",
                                "primary"),
        "two_factor": rows(Authenticator.objects.filter(user=user), "type", "created_at",
                           "last_used_at"),
        "api_keys": rows(ApiKey.objects.filter(user=user), "id", "name", "prefix",
                         "created_at", "last_used_at", "revoked_at"),
        "credits": rows(CreditEntry.objects.filter(user=user).order_by("created_at"), "id",
                        "kind", "delta", "balance_after", "reason", "reference", "created_at"),
        "subscriptions": rows(Subscription.objects.filter(user=user), "stripe_id", "plan",
                              "status", "started_at", "current_period_end", "canceled_at"),
        "payments": rows(Payment.objects.filter(user=user), "stripe_id", "kind", "item",
                         "amount_cents", "currency", "paid_at"),
        "personal_models": rows(
            PersonalModel.objects.filter(user=user), "id", "name", "subject_class",
            "trigger_word", "status", "steps", "learning_rate", "lora_rank", "hf_repo_id",
            "created_at", "trained_at", "default_lora_scale", "likeness_report",
            "face_references", "holdout_references"),
        "training_photos": rows(
            TrainingPhoto.objects.filter(user=user), "id", "model_id", "filename", "width",
            "height", "created_at", "embedding", "identity", "identity_distance", "held_out",
            file=lambda p: f"photos/{p.model_id}/{p.id}.jpg"),
        "consents": rows(Consent.objects.filter(user=user), "id", "model_id", "method",
                         "status", "statement", "match_distance", "threshold", "photo_count",
                         "created_at", "overridden_at", "override_reason"),
        "trainings": rows(TrainingRun.objects.filter(user=user), "id", "model_id", "provider",
                          "status", "stage", "steps", "credits", "created_at", "finished_at",
                          "error"),
        "generations": rows(Generation.objects.filter(user=user), "id", "prompt",
                            "negative_prompt", "base_model", "aspect_ratio", "num_images",
                            "seed", "status", "provider", "credits_reserved",
                            "credits_refunded", "created_at", "finished_at"),
        "images": rows(Image.objects.filter(user=user), "id", "generation_id", "index",
                       "width", "height", "prompt", "seed", "favorite", "created_at",
                       "personal_model_id", "likeness", "likeness_distance", "face_count",
                       "all_faces_subject", file=lambda i: _image_name(i)),
    }


def _image_name(image) -> str:
    extension = image.file.name.rpartition(".")[2] if "." in image.file.name else "bin"
    return f"images/{image.generation_id}/{image.id}.{extension}"


def _files(user):
    for image in Image.objects.filter(user=user).only("id", "generation_id", "file"):
        if image.file.name:
            yield _image_name(image), image.file
    for photo in TrainingPhoto.objects.filter(user=user).only("id", "model_id", "file"):
        if photo.file.name:
            yield f"photos/{photo.model_id}/{photo.id}.jpg", photo.file


def export_stream(user):
    """The export as a streamed ZIP: data.json first, then every image and training photo."""
    pipe = ZipPipe()
    data = json.dumps(account_data(user), indent=2, ensure_ascii=False).encode()
    files = list(_files(user))
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        zf.writestr("data.json", data)
        zf.writestr("README.txt", "Your Likeness data: data.json holds your account, credits, "
                                  "models, trainings, generations and images; images/ and "
                                  "photos/ hold the files named in it.\n")
        yield pipe.take()
        for name, field in files:
            try:
                source = field.open("rb")
            except Exception:
                logger.exception("export: %s is missing from storage", field.name)
                continue
            info = zipfile.ZipInfo(name, date_time=timezone.localtime().timetuple()[:6])
            with source, zf.open(info, "w", force_zip64=True) as entry:
                while chunk := source.read(CHUNK):
                    entry.write(chunk)
                    yield pipe.take()
    yield pipe.take()


def cancel_subscriptions(user) -> list[str]:
    """Cancel at Stripe every subscription still billing (billing.actions); the ids canceled."""
    try:
        return billing.cancel_subscriptions(user)
    except billing.CancelFailed as exc:
        raise DeletionBlocked(exc.message if "configured" in exc.message
                              else f"{exc.message} Nothing was deleted; try again.")


def _remove_folder(path: str) -> int:
    """Delete every file under `path` in storage (what a crash may have left); how many."""
    removed = 0
    try:
        folders, files = default_storage.listdir(path)
    except (FileNotFoundError, NotImplementedError, OSError):
        return 0
    for name in files:
        default_storage.delete(f"{path}/{name}")
        removed += 1
    for folder in folders:
        removed += _remove_folder(f"{path}/{folder}")
    return removed


def delete_account(user) -> AccountDeletion:
    canceled = cancel_subscriptions(user)  # first: nothing is deleted if Stripe says no
    counts = {
        "personal_models": PersonalModel.objects.filter(user=user).count(),
        "training_photos": TrainingPhoto.objects.filter(user=user).count(),
        "trainings": TrainingRun.objects.filter(user=user).count(),
        "generations": Generation.objects.filter(user=user).count(),
        "images": Image.objects.filter(user=user).count(),
        "subscriptions_canceled": len(canceled),
    }
    for model in PersonalModel.objects.filter(user=user):
        delete_model(model)
    delete_images(user, Image.objects.filter(user=user))
    for run in TrainingRun.objects.filter(user=user).exclude(zip_file=""):
        default_storage.delete(run.zip_file.name)
    ref = user.public_id
    with transaction.atomic():
        cleanup_ids = list(Cleanup.objects.filter(user=user).values_list("pk", flat=True))
        receipt = AccountDeletion.objects.create(
            token=secrets.token_urlsafe(32), account_ref=ref, counts=counts,
            cleanup_ids=cleanup_ids, canceled_subscriptions=canceled)
        email = user.email
        user.delete()
        enqueue(sweep_cleanups)
    # Anything a crash left behind under the account's folders goes too.
    counts["stray_files"] = sum(_remove_folder(f"{prefix}/{ref}")
                                for prefix in ("photos", "images", "trainings", "validation",
                                               "consents"))
    receipt.counts = counts
    receipt.save(update_fields=["counts"])
    _send_receipt(email, receipt)
    logger.info("account %s deleted", ref, extra={"deleted_account": str(ref), **counts})
    return receipt


def deletion_status(receipt: AccountDeletion) -> list[dict]:
    return [{"kind": c.get_kind_display(), "provider": c.provider, "target": c.target,
             "done": c.done_at is not None, "done_at": c.done_at, "error": c.error}
            for c in Cleanup.objects.filter(pk__in=receipt.cleanup_ids).order_by("pk")]


def _send_receipt(email: str, receipt: AccountDeletion):
    url = settings.PUBLIC_BASE_URL + reverse("account_deleted", args=[receipt.token])
    try:
        send_mail("Your Likeness account is deleted",
                  "Your account and everything in it have been deleted: "
                  f"{receipt.counts.get('images', 0)} images, "
                  f"{receipt.counts.get('training_photos', 0)} training photos and "
                  f"{receipt.counts.get('personal_models', 0)} personal models, with every copy "
                  "in our storage. Trained models at our providers and on the Hugging Face Hub "
                  f"are being removed; this page shows when they are gone:\n\n{url}\n",
                  None, [email])
    except Exception:
        logger.exception("could not send the deletion receipt")
