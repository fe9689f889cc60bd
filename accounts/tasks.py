from django_tasks import task

from accounts.data import apply_photo_retention as _apply


@task()
def apply_photo_retention():
    """Recurring (RECURRING_TASKS): the retention of training photos."""
    return _apply()
