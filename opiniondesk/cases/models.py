"""Cases (相談案件): the application, its people, the consultation sheet and its history."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from opiniondesk.cases.eligibility import Consent
from opiniondesk.cases.kinship import Relation
from opiniondesk.cases.workflow import OPEN_STATES, Status
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.core.fields import StoredGeneratedField

RELATION_CHOICES = [(r.value, r.value) for r in Relation]  # shown in words by the templates


class Sex(models.TextChoices):
    FEMALE = "female", _("female")
    MALE = "male", _("male")
    OTHER = "other", _("other / not stated")


class Channel(models.TextChoices):
    """How the application reached the hospital (SPEC §3): online through the wizard, or on
    paper or by phone, typed in by a coordinator who opened the case for the person."""

    ONLINE = "online", _("online")
    POST = "post", _("by post")
    DESK = "desk", _("brought to the desk")
    PHONE = "phone", _("by phone")


class PrivacyPolicy(models.Model):
    """個人情報の取扱い: versioned text; an applicant accepts one version."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    effective_from = models.DateField(_("effective from"))
    text_ja = models.TextField(_("policy (Japanese)"))
    text_en = models.TextField(_("policy (English)"), blank=True)
    purposes_ja = models.TextField(_("purposes of use (Japanese)"))
    purposes_en = models.TextField(_("purposes of use (English)"), blank=True)

    class Meta:
        ordering = ["-effective_from"]
        verbose_name = _("privacy policy")
        verbose_name_plural = _("privacy policies")

    def __str__(self) -> str:
        return self.version


class Case(models.Model):
    """One second-opinion request, from the draft application to the delivered opinion."""

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("applicant account"),
    )
    # The patient's own account (SPEC §6): the applicant's when they apply for themselves, else
    # linked when the patient accepts the applicant's invitation.
    patient_account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="own_cases",
        verbose_name=_("patient's own account"),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=[(s.value, s.value) for s in Status],
        default=Status.DRAFT,
        db_index=True,
    )
    # Bumped by every save of the draft: a second tab with an older copy is told, not obeyed.
    revision = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # Since when the case waits on someone's desk (the last change of state): the work queue's
    # sort key, kept by the database so that it can be indexed.
    waiting_since = StoredGeneratedField(
        expression=Coalesce("status_changed_at", "submitted_at", "created_at"),
        output_field=models.DateTimeField(),
    )
    # The first referral to a department (紹介): from then on its specialists see the case,
    # whatever happens next. On the row, so the queue and its counts need not read the history.
    referred_at = models.DateTimeField(null=True, blank=True, editable=False)
    channel = models.CharField(
        _("application channel"), max_length=10, choices=Channel.choices, default=Channel.ONLINE
    )

    # Who applies: the patient, or a family member (代理相談者).
    applicant_relation = models.CharField(
        _("relation of the applicant to the patient"),
        max_length=30,
        choices=RELATION_CHOICES,
        blank=True,
    )
    applicant_family_name = models.CharField(_("applicant family name"), max_length=50, blank=True)
    applicant_given_name = models.CharField(_("applicant given name"), max_length=50, blank=True)
    applicant_family_name_kana = models.CharField(
        _("applicant family name (kana)"), max_length=50, blank=True
    )
    applicant_given_name_kana = models.CharField(
        _("applicant given name (kana)"), max_length=50, blank=True
    )
    applicant_phone = models.CharField(_("applicant phone"), max_length=20, blank=True)
    applicant_lives_with_patient = models.BooleanField(_("lives with the patient"), null=True)
    # Whether the family member who applies attends the consult (None: not answered yet); if so,
    # their row among the attending family is made from the details above, not typed again.
    applicant_attends = models.BooleanField(_("the applicant attends"), null=True)

    # The patient.
    patient_family_name = models.CharField(_("family name"), max_length=50, blank=True)
    patient_given_name = models.CharField(_("given name"), max_length=50, blank=True)
    patient_family_name_kana = models.CharField(_("family name (kana)"), max_length=50, blank=True)
    patient_given_name_kana = models.CharField(_("given name (kana)"), max_length=50, blank=True)
    patient_birth_date = models.DateField(_("birth date"), null=True, blank=True)
    patient_sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, blank=True)
    patient_postal_code = models.CharField(_("postal code"), max_length=8, blank=True)
    patient_address = models.CharField(_("address"), max_length=200, blank=True)
    patient_phone = models.CharField(_("phone reachable on weekdays"), max_length=20, blank=True)
    patient_email = models.EmailField(_("e-mail"), blank=True)
    patient_deceased = models.BooleanField(_("the patient has died"), default=False)
    patient_resides_in_japan = models.BooleanField(_("lives in Japan"), null=True)
    patient_has_japanese_insurance = models.BooleanField(
        _("has Japanese public health insurance"), null=True
    )
    patient_consent = models.CharField(
        _("patient's consent to a proxy"),
        max_length=30,
        choices=[(c.value, c.value) for c in Consent],
        default=Consent.NONE,
    )

    # What is asked, and how.
    mode = models.CharField(
        _("mode"), max_length=20, choices=[(m.value, m.value) for m in Mode], blank=True
    )
    department = models.ForeignKey(
        "catalog.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("department"),
    )
    disease = models.ForeignKey(
        "catalog.Disease",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("disease"),
    )
    joining_from_japan = models.BooleanField(_("joins the online consult from Japan"), null=True)

    # The consultation sheet (相談シート).
    current_diagnosis = models.TextField(_("current diagnosis"), blank=True)
    treatment_so_far = models.TextField(_("treatment so far"), blank=True)
    wants_opinion_on_current = models.BooleanField(
        _("opinion on the current diagnosis and treatment"), default=False
    )
    wants_opinion_on_future = models.BooleanField(
        _("opinion on future treatment and outlook"), default=False
    )
    questions = models.TextField(_("questions for the specialist"), blank=True)

    # The attending physician (主治医).
    physician_name = models.CharField(_("attending physician's name"), max_length=100, blank=True)
    physician_institution = models.CharField(_("institution"), max_length=200, blank=True)
    physician_department = models.CharField(
        _("attending physician's department"), max_length=100, blank=True
    )
    physician_phone = models.CharField(_("institution phone"), max_length=20, blank=True)
    # Where the written opinion goes (SPEC §9): by post, fax or a one-time link by e-mail.
    physician_postal_code = models.CharField(_("institution postal code"), max_length=8, blank=True)
    physician_address = models.CharField(_("institution address"), max_length=200, blank=True)
    physician_fax = models.CharField(_("institution fax"), max_length=20, blank=True)
    physician_email = models.EmailField(_("attending physician's e-mail"), blank=True)

    # Declarations (SPEC §3); None until answered.
    attending_physician_agrees = models.BooleanField(null=True)
    wants_tests_or_treatment_here = models.BooleanField(null=True)
    wants_transfer = models.BooleanField(null=True)
    complaint_or_litigation = models.BooleanField(null=True)
    fee_or_benefit_question = models.BooleanField(null=True)
    can_provide_materials = models.BooleanField(null=True)

    privacy_policy = models.ForeignKey(
        PrivacyPolicy, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    privacy_accepted_at = models.DateTimeField(null=True, blank=True)

    # Screening and the department's answer (SPEC §4).
    rejection_reasons = models.JSONField(_("reasons for rejection"), default=list, blank=True)
    rejection_note = models.TextField(_("explanation to the applicant"), blank=True)
    decline_reason = models.TextField(_("reason the department declined"), blank=True)
    # Set by the specialist on accepting, from the materials (SPEC §5): the booking holds that
    # many minutes of consecutive 30-minute slots. Null until the case is accepted.
    planned_minutes = models.PositiveSmallIntegerField(
        _("planned length (minutes)"),
        null=True,
        blank=True,
        choices=[(30, _("30 minutes")), (60, _("60 minutes"))],
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        # The work queue pages by (waiting_since, id), within a state or across them (keyset).
        indexes = [
            models.Index(fields=["waiting_since", "id"], name="case_queue_all"),
            # The default queue (open cases) of years of mostly ended ones: the scan of the index
            # above skipped every ended case older than the first open one (bench/scale.py).
            models.Index(
                fields=["waiting_since", "id"],
                name="case_queue_open",
                condition=models.Q(status__in=sorted(s.value for s in OPEN_STATES)),
            ),
            models.Index(fields=["status", "waiting_since", "id"], name="case_queue_state"),
            models.Index(fields=["department", "waiting_since", "id"], name="case_queue_dept"),
            # The API lists newest first, within a state or across them.
            models.Index(fields=["created_at", "id"], name="case_newest"),
            models.Index(fields=["status", "created_at", "id"], name="case_newest_state"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"

    @property
    def reference(self) -> str:
        """The number a patient quotes on the phone."""
        return f"SO-{self.pk:06d}"

    @property
    def patient_account_id_effective(self) -> int | None:
        """The patient's own account: the applicant's when they are the patient."""
        if self.applicant_relation == Relation.SELF:
            return self.applicant_id
        return self.patient_account_id

    @property
    def patient_name(self) -> str:
        return f"{self.patient_family_name} {self.patient_given_name}".strip()

    @property
    def applicant_name(self) -> str:
        """The name of whoever applies: the patient's when they apply for themselves."""
        if self.applicant_relation in ("", Relation.SELF):
            return self.patient_name
        return f"{self.applicant_family_name} {self.applicant_given_name}".strip()

    def name_of(self, account_id: int | None) -> str:
        """The name this application gives the account (its applicant or the patient's own),
        as typed on the form; empty when it gives none. Never a user name."""
        if account_id is not None and account_id == self.applicant_id:
            return self.applicant_name
        if account_id is not None and account_id == self.patient_account_id:
            return self.patient_name
        return ""


class Proxy(models.Model):
    """A family member who will attend the consult for or with the patient."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="proxies")
    family_name = models.CharField(_("family name"), max_length=50)
    given_name = models.CharField(_("given name"), max_length=50)
    family_name_kana = models.CharField(_("family name (kana)"), max_length=50)
    given_name_kana = models.CharField(_("given name (kana)"), max_length=50)
    relation = models.CharField(
        _("relation to the patient"), max_length=30, choices=RELATION_CHOICES
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    # The applicant's own row, kept in step with the case's applicant details.
    is_applicant = models.BooleanField(default=False)

    class Meta:
        ordering = ["case_id", "position", "pk"]
        verbose_name = _("attending family member")
        verbose_name_plural = _("attending family members")

    def __str__(self) -> str:
        return f"{self.family_name} {self.given_name}"


class CaseTransition(models.Model):
    """One state change: who, when, from, to and why. Written only by services."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_role = models.CharField(max_length=20)
    at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["case_id", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.from_status} → {self.to_status}"


class PhoneOutcome(models.TextChoices):
    REACHED = "reached", _("reached")
    NO_ANSWER = "no_answer", _("no answer")
    LEFT_MESSAGE = "left_message", _("left a message")


class PhoneLog(models.Model):
    """A call from the hospital to the applicant (SPEC: 当院より電話で連絡)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="phone_logs")
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    called_at = models.DateTimeField(_("time of the call"))
    number = models.CharField(_("number called"), max_length=20)
    outcome = models.CharField(_("outcome"), max_length=20, choices=PhoneOutcome.choices)
    notes = models.TextField(_("notes"), blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case_id", "called_at", "pk"]
        verbose_name = _("phone call")
        verbose_name_plural = _("phone calls")

    def __str__(self) -> str:
        return f"{self.case_id} {self.called_at:%Y-%m-%d %H:%M} {self.outcome}"


class DocumentRequest(models.Model):
    """What the hospital asked the applicant to send, and by when (書類の追加依頼)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="document_requests")
    requested_by = models.ForeignKey(  # None: the system, at submission
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    items = models.JSONField(_("documents asked for"), default=list)  # DocumentCode values
    message = models.TextField(_("message to the applicant"), blank=True)
    due_date = models.DateField(_("please send by"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case_id", "requested_at", "pk"]
        verbose_name = _("request for documents")
        verbose_name_plural = _("requests for documents")

    def __str__(self) -> str:
        return f"{self.case_id}: {', '.join(self.items)}"


class CaseStateCount(models.Model):
    """How many cases are in each state, per department, channel, mode and whether ever referred.

    Kept by triggers in the database itself (cases.state_counts), so every write — a service, a
    bulk load, a restore — counts and the queue's counts read a few rows instead of every case.
    Each count is spread over a few rows by `shard`, so that transitions of different cases
    rarely wait on one row's lock; readers add them up.
    """

    status = models.CharField(max_length=20)
    department_id = models.BigIntegerField()  # 0 while no department is chosen
    channel = models.CharField(max_length=20)
    mode = models.CharField(max_length=20)
    referred = models.BooleanField()
    shard = models.SmallIntegerField(default=0)  # the case's id modulo state_counts.SHARDS
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["status", "department_id", "channel", "mode", "referred", "shard"],
                name="case_count_key",
            )
        ]

    def __str__(self) -> str:
        key = (self.status, self.department_id, self.channel, self.mode, self.referred, self.shard)
        return f"{'/'.join(map(str, key))}: {self.n}"
