"""The national baseline of the two programmes continued after the 2021 amendment of the
Population and Family Planning Law (issue 17). Rules are data (liudong.services.programmes.
rules); a province changes them or adds its own programme without a release. No amounts:
those are per year and province (the demo adds example amounts, marked as examples)."""

from django.db import migrations

BORN_FROM = {"rule": "born_on_or_after", "date": "1933-01-01"}

NATIONAL = [
    {
        "code": "reward",
        "name": "农村部分计划生育家庭奖励扶助",
        "name_en": "reward programme for rural family-planning families",
        "group": "reward",
        "rules": [
            {"rule": "household_type", "in": ["agricultural", "resident_rural"]},
            {**BORN_FROM, "who": "applicant"},
            {"rule": "reaches_age", "who": "applicant", "years": 60},
            {"rule": "children", "state": "any", "max": 2},
            {
                "rule": "any_of",
                "options": [
                    [{"rule": "children", "state": "alive", "min": 1, "max": 1}],
                    [
                        {"rule": "children", "state": "any", "min": 2, "max": 2},
                        {"rule": "children", "state": "any", "sex": "2", "min": 2, "max": 2},
                    ],
                    [
                        {"rule": "children", "state": "any", "min": 1},
                        {"rule": "children", "state": "alive", "max": 0},
                    ],
                ],
            },
            {"rule": "youngest_child_born", "from": "1980-01-01", "to": "2015-12-31"},
            {"rule": "births_certified"},
        ],
    },
    {
        "code": "special_death",
        "name": "计划生育家庭特别扶助（独生子女死亡）",
        "name_en": "special assistance: the only child died",
        "group": "special",
        "rules": [
            {**BORN_FROM, "who": "parents"},
            {"rule": "reaches_age", "who": "mother", "years": 49},
            {"rule": "children", "state": "alive", "max": 0},
            {"rule": "children", "state": "any", "min": 1, "max": 1},
            {"rule": "children", "state": "dead", "min": 1},
        ],
    },
    {
        "code": "special_disability",
        "name": "计划生育家庭特别扶助（独生子女伤残）",
        "name_en": "special assistance: the only child is severely disabled",
        "group": "special",
        "rules": [
            {**BORN_FROM, "who": "parents"},
            {"rule": "reaches_age", "who": "mother", "years": 49},
            {"rule": "children", "state": "any", "min": 1, "max": 1},
            {"rule": "children", "state": "disabled", "min": 1},
            {"rule": "disability_grade", "max": 3},
        ],
    },
]


def add(apps, schema_editor):
    Programme = apps.get_model("programmes", "Programme")
    for item in NATIONAL:
        Programme.objects.update_or_create(code=item["code"], defaults=item)


class Migration(migrations.Migration):
    dependencies = [("programmes", "0001_initial")]
    # Backwards: nothing to undo here (the rows go with the table in 0001; forwards again
    # updates them in place).
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
