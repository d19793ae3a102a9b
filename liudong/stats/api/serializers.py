"""Shapes of the statistics API: indicators, the monthly report (DESIGN.md §5's json),
and submitted reports with their decisions."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import (
    AssessmentScheme,
    FieldResult,
    Indicator,
    MonthlyReport,
    ReportEvent,
    SpotCheck,
    SpotCheckEntry,
)


class IndicatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Indicator
        fields = [
            "code",
            "name_zh",
            "name_en",
            "unit",
            "direction",
            "definition",
            "standard",
            "assessable",
            "position",
        ]
        read_only_fields = ["standard", "assessable", "position"]


class IndicatorInputSerializer(serializers.ModelSerializer):
    """A county's own indicator; the definition is checked by the model (``parse``)."""

    definition = serializers.JSONField()

    class Meta:
        model = Indicator
        fields = ["code", "name_zh", "name_en", "unit", "direction", "definition", "assessable"]
        extra_kwargs = {
            "assessable": {
                "required": False,
                "help_text": "default: decided by what the definition counts; births, "
                "contraception, pregnancies, health checks accepted and counts of people are "
                "statistics and cannot be made assessable (400)",
            }
        }


class ReportRowSerializer(serializers.Serializer):
    region = serializers.CharField()
    name = serializers.CharField()
    indicators = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        help_text="indicator code → value: counts are integers, rates two decimals or null",
    )


class MonthlyFiguresSerializer(serializers.Serializer):
    region = serializers.CharField()
    name = serializers.CharField()
    period = serializers.CharField()
    generated_at = serializers.CharField()
    indicators = serializers.DictField(child=serializers.FloatField(allow_null=True))
    rows = ReportRowSerializer(many=True)
    status = serializers.CharField(
        help_text="live (counted now), submitted, returned, reopened or approved (frozen)"
    )


class ReportQuerySerializer(serializers.Serializer):
    region = serializers.CharField(required=False, help_text="default: the caller's region")
    period = serializers.CharField(help_text="YYYY-MM")


class ReportEventSerializer(serializers.ModelSerializer):
    by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = ReportEvent
        fields = ["action", "by", "at", "reason"]


class MonthlyReportSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region_id", read_only=True)
    submitted_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    decided_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    events = ReportEventSerializer(many=True, read_only=True)

    class Meta:
        model = MonthlyReport
        fields = [
            "id",
            "region",
            "period",
            "status",
            "version",
            "submitted_by",
            "submitted_at",
            "decided_by",
            "decided_at",
            "reason",
            "figures",
            "events",
        ]


class SubmitSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="YYYY-MM, a month that is over")


class DecisionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, help_text="the version you saw (409 if stale)"
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


class TargetInputSerializer(serializers.Serializer):
    indicator = serializers.SlugRelatedField(slug_field="code", queryset=Indicator.objects.all())
    region = serializers.CharField(help_text="the caller's region or one below it")
    year = serializers.IntegerField(min_value=2000, max_value=2100, help_text="statistical year")
    value = serializers.DecimalField(max_digits=9, decimal_places=2)


class TargetSerializer(serializers.Serializer):
    indicator = serializers.CharField()
    region = serializers.CharField()
    year = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True)
    own = serializers.BooleanField(help_text="set for this region (else inherited from above)")


class TargetQuerySerializer(serializers.Serializer):
    region = serializers.CharField(required=False)
    year = serializers.IntegerField(min_value=2000, max_value=2100)


class AssessmentSchemeSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region_id", read_only=True)

    class Meta:
        model = AssessmentScheme
        fields = [
            "id",
            "name",
            "region",
            "year",
            "items",
            "due_day",
            "late_deduction",
            "return_deduction",
        ]


ITEM_STATUSES = [
    ("ranked", "scored"),
    ("too_few", "a rate of fewer than the minimum: not scored"),
    ("no_data", "nothing to count: not scored"),
    ("statistic", "not assessable, a statistic: not scored"),
]
UNIT_STATUSES = [
    ("ranked", "ranked"),
    ("too_few", "too few to rank"),
    ("no_data", "no data"),
]


class ScoredItemSerializer(serializers.Serializer):
    indicator = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    target = serializers.FloatField(allow_null=True)
    size = serializers.FloatField(
        allow_null=True, help_text="the rate's denominator (women, fields, requests)"
    )
    status = serializers.ChoiceField(choices=ITEM_STATUSES)
    score = serializers.FloatField(allow_null=True, help_text="null: not scored (see status)")


class ScoredUnitSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True, help_text="null: not ranked (see status)")
    region = serializers.CharField()
    name = serializers.CharField()
    items = ScoredItemSerializer(many=True)
    late = serializers.IntegerField()
    returned = serializers.IntegerField()
    deductions = serializers.FloatField()
    score = serializers.FloatField(allow_null=True)
    scored_weight = serializers.FloatField(
        help_text="points of the items scored; the total is prorated to the full marks"
    )
    status = serializers.ChoiceField(choices=UNIT_STATUSES)
    frozen = serializers.BooleanField()


class AssessmentTableSerializer(serializers.Serializer):
    scheme = serializers.CharField()
    region = serializers.CharField()
    year = serializers.IntegerField()
    period = serializers.CharField()
    full_marks = serializers.FloatField()
    minimum = serializers.IntegerField(help_text="LIUDONG_RANKING_MIN_DENOMINATOR")
    rows = ScoredUnitSerializer(many=True)


class SpotCheckAccuracySerializer(serializers.Serializer):
    checked = serializers.IntegerField(help_text="fields found correct or incorrect")
    correct = serializers.IntegerField()
    incorrect = serializers.IntegerField()
    unverified = serializers.IntegerField(help_text="fields of visited files not verified")
    visited = serializers.IntegerField(help_text="sampled files with a visit recorded")
    sampled = serializers.IntegerField()
    rate = serializers.FloatField(
        allow_null=True, help_text="correct / checked × 100, two decimals; null before any"
    )


class SpotCheckEntrySerializer(serializers.ModelSerializer):
    """A sampled file: its ID number masked but for the last four characters."""

    person = serializers.IntegerField(source="person_id", read_only=True)
    name = serializers.CharField(source="person.name", read_only=True)
    id_number = serializers.SerializerMethodField()
    village = serializers.CharField(source="village_id", read_only=True)
    checked_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    results = serializers.SerializerMethodField(
        help_text="field → correct, incorrect or unverified (empty before the visit)"
    )

    class Meta:
        model = SpotCheckEntry
        fields = [
            "id",
            "person",
            "name",
            "id_number",
            "village",
            "position",
            "visited_on",
            "checked_by",
            "note",
            "results",
        ]

    def get_id_number(self, entry: SpotCheckEntry) -> str:
        from ..spotchecks import mask_id_number

        return mask_id_number(entry.person.id_number)

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_results(self, entry: SpotCheckEntry) -> dict:
        found = getattr(entry, "found", None)
        if found is None:
            found = dict(entry.results.values_list("field", "result"))
        return found


class SpotCheckSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region_id", read_only=True)
    drawn_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    accuracy = serializers.SerializerMethodField()

    class Meta:
        model = SpotCheck
        fields = [
            "id",
            "region",
            "period",
            "seed",
            "per_village",
            "fields_checked",
            "status",
            "drawn_by",
            "drawn_at",
            "accuracy",
        ]

    @extend_schema_field(SpotCheckAccuracySerializer)
    def get_accuracy(self, check: SpotCheck) -> dict:
        from ..spotchecks import accuracy_of

        return accuracy_of(check).as_dict()


class SpotCheckDetailSerializer(SpotCheckSerializer):
    entries = serializers.SerializerMethodField()

    class Meta(SpotCheckSerializer.Meta):
        fields = [*SpotCheckSerializer.Meta.fields, "entries"]

    @extend_schema_field(SpotCheckEntrySerializer(many=True))
    def get_entries(self, check: SpotCheck) -> list:
        from ..spotchecks import entries_of

        entries = entries_of(check, acting_user=self.context["request"].user)
        return list(SpotCheckEntrySerializer(entries, many=True).data)


class SpotCheckDrawSerializer(serializers.Serializer):
    region = serializers.CharField(help_text="the unit checked: the caller's region or below")
    period = serializers.CharField(help_text="YYYY-MM: files as they stood on its last day")
    per_village = serializers.IntegerField(default=20, help_text="files drawn per village")
    seed = serializers.IntegerField(
        required=False, allow_null=True, help_text="an earlier draw's seed draws it again"
    )
    fields_checked = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="fields the visits check (default: name, sex, birth_date, marital_status, "
        "residence_address, phone, employer, certificate)",
    )


class SpotCheckResultsSerializer(serializers.Serializer):
    person = serializers.IntegerField(help_text="the sampled person's id")
    results = serializers.DictField(
        child=serializers.ChoiceField(choices=FieldResult.choices),
        help_text="field → correct, incorrect or unverified; a field left out is unverified",
    )
    visited_on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class QualityRuleCountSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    severity = serializers.CharField()
    violations = serializers.IntegerField()


class QualityGridCountSerializer(serializers.Serializer):
    grid = serializers.CharField(allow_null=True)
    violations = serializers.IntegerField()


class QualityViolationSerializer(serializers.Serializer):
    rule = serializers.CharField()
    person = serializers.CharField(help_text="masked ID number")
    name = serializers.CharField()
    grid = serializers.CharField(allow_null=True)
    detail = serializers.CharField()
    url = serializers.CharField(help_text="the page where it is fixed")


class QualityReportSerializer(serializers.Serializer):
    region = serializers.CharField()
    rules = QualityRuleCountSerializer(many=True)
    grids = QualityGridCountSerializer(many=True)
    violations = QualityViolationSerializer(many=True)
