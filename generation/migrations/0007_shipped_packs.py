"""The packs Likeness ships (generation.pack_catalogue), written once; staff edit them later."""

from django.db import migrations

from generation.pack_catalogue import SHIPPED


def add_packs(apps, schema_editor):
    Pack = apps.get_model("generation", "Pack")
    for data in SHIPPED:
        Pack.objects.get_or_create(slug=data["slug"], defaults={
            k: v for k, v in data.items() if k != "slug"})


def remove_packs(apps, schema_editor):
    apps.get_model("generation", "Pack").objects.filter(
        slug__in=[p["slug"] for p in SHIPPED]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("generation", "0006_packs"),
    ]

    operations = [
        migrations.RunPython(add_packs, remove_packs),
    ]
