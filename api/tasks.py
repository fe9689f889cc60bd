from django_tasks import task

from api.idempotency import prune


@task()
def prune_idempotency_keys():
    return prune()
