"""On PostgreSQL, a task row that becomes ready now (queued, or given back by the reaper) sends
NOTIFY on the `likeness_jobs` channel with its queue's name (jobs.notify). A trigger, so that
every way a row is written sends it, in the writing transaction: PostgreSQL delivers it when
that transaction commits, never before the row can be seen. Nothing on SQLite."""

from django.db import migrations

CHANNEL = "likeness_jobs"  # jobs.notify.CHANNEL
TABLE = "django_tasks_database_dbtaskresult"
# A task deferred to later (run_after in the future) is not ready: the polling finds it then
# (clock_timestamp(), not now(): a row written late in a long transaction may be due already).
# django-tasks-db's "no run_after" is 9999-01-01.
CREATE = [
    f"""CREATE OR REPLACE FUNCTION jobs_notify_ready() RETURNS trigger AS $$
    BEGIN
        PERFORM pg_notify('{CHANNEL}', NEW.queue_name);
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql""",
    f"DROP TRIGGER IF EXISTS jobs_notify_ready ON {TABLE}",
    f"""CREATE TRIGGER jobs_notify_ready AFTER INSERT OR UPDATE OF status ON {TABLE}
        FOR EACH ROW WHEN (NEW.status = 'READY'
                           AND (NEW.run_after <= clock_timestamp()
                                OR NEW.run_after >= '9999-01-01'))
        EXECUTE FUNCTION jobs_notify_ready()""",
]
DROP = [f"DROP TRIGGER IF EXISTS jobs_notify_ready ON {TABLE}",
        "DROP FUNCTION IF EXISTS jobs_notify_ready()"]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)
    return apply


class Migration(migrations.Migration):

    dependencies = [
        ("jobs", "0003_heartbeat_per_thread"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(run(CREATE), run(DROP), elidable=False)]
