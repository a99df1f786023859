"""A case as a FHIR R4 (4.0.1) Bundle: what the hospital holds about one second-opinion request.

The Bundle is of type `collection`: a set of the case's records handed over together (to the
patient on a disclosure request, to a hospital system through the API). A `document` Bundle
would be one attested clinical document whose first entry is its Composition; the written
opinion is such a document and joins this collection as one Composition (`opinion_entries`).

References within the Bundle are `urn:uuid:` full URLs. The uuids are derived from the case
and each row's id (uuid5), so two exports of the same case name the same resources alike.
Files are never inline: a DocumentReference points to the permission-checked download.
Names follow JP Core: one HumanName in kanji (iso21090-EN-representation IDE) and one in kana
(SYL). Our own code systems are URNs under `urn:opiniondesk:`.
"""

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from html import escape
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from opiniondesk.billing.models import Charge, ChargeState
from opiniondesk.cases.kinship import Relation
from opiniondesk.cases.models import Case, Proxy
from opiniondesk.cases.workflow import Status
from opiniondesk.catalog.vocabulary import Mode
from opiniondesk.consults.models import Consult, ConsultState
from opiniondesk.core.time import JST
from opiniondesk.documents.models import Document
from opiniondesk.opinions.models import OpinionVersion, VersionState
from opiniondesk.readiness.models import ConsentSignature
from opiniondesk.scheduling.models import Booking

Resource = dict[str, Any]

NAMESPACE = uuid.UUID("6f1d3c2a-9b0e-5e4f-8a71-3c5d0b9e2f14")  # of this export's uuids
SYSTEM = "urn:opiniondesk"
EN_REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"
ROLE_CODES = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
ACT_CODES = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SHA256_EXTENSION = f"{SYSTEM}:StructureDefinition:attachment-sha256"
OPINION_HASH_EXTENSION = f"{SYSTEM}:StructureDefinition:opinion-content-sha256"

# Our relations in HL7 v3 RoleCode (family member roles); the rest are FAMMEMB, "family member".
RELATION_CODES = {
    Relation.SELF: ("ONESELF", "self"),
    Relation.SPOUSE: ("SPS", "spouse"),
    Relation.PARENT: ("PRN", "parent"),
    Relation.CHILD: ("CHILD", "child"),
    Relation.GRANDPARENT: ("GRPRN", "grandparent"),
    Relation.GRANDCHILD: ("GRNDCHILD", "grandchild"),
    Relation.SIBLING: ("SIB", "sibling"),
    Relation.GREAT_GRANDPARENT: ("GGRPRN", "great grandparent"),
    Relation.UNCLE_AUNT: ("AUNT", "aunt"),  # v3 has no common code for both; see the text
    Relation.COUSIN: ("COUSN", "cousin"),
    Relation.PARENT_IN_LAW: ("PRNINLAW", "parent in-law"),
    Relation.CHILD_IN_LAW: ("CHLDINLAW", "child-in-law"),
    Relation.STEPCHILD: ("STPCHLD", "step child"),
    Relation.SIBLING_IN_LAW: ("SIBINLAW", "sibling in-law"),
}
GENDERS = {"female": "female", "male": "male", "other": "unknown"}


def case_bundle(case: Case) -> Resource:
    """The case as a FHIR R4 `collection` Bundle (a dict ready for JSON)."""
    ids = _Ids(case)
    entries: list[Resource] = [_patient(case, ids)]
    entries += _related_people(case, ids)
    entries += _physician(case, ids)
    entries.append(_hospital(ids))
    bookings = list(Booking.objects.filter(case=case).select_related("specialist", "department"))
    consults = list(Consult.objects.filter(case=case).select_related("specialist"))
    specialists = {b.specialist for b in bookings} | {c.specialist for c in consults}
    specialists |= {
        v.signed_by
        for v in OpinionVersion.objects.filter(
            opinion__case=case, state=VersionState.SIGNED
        ).select_related("signed_by")
    }
    entries += [_specialist(user, ids) for user in sorted(specialists, key=lambda u: u.pk)]
    documents = list(Document.objects.filter(case=case).select_related("supersedes"))
    entries.append(_service_request(case, ids, documents))
    entries += [_appointment(case, booking, ids) for booking in bookings]
    entries += [_encounter(case, consult, ids) for consult in consults]
    entries += [_document_reference(case, document, ids) for document in documents]
    entries += _consents(case, ids)
    entries += _charge(case, ids, consults)
    entries += opinion_entries(case, consults)
    return {
        "resourceType": "Bundle",
        "id": str(ids.of("Bundle", case.pk)),
        "identifier": {"system": f"{SYSTEM}:case", "value": case.reference},
        "type": "collection",
        "timestamp": _instant(timezone.now()),
        "entry": [{"fullUrl": ids.url_of(r), "resource": r} for r in entries],
    }


def opinion_entries(case: Case, consults: list[Consult] | None = None) -> list[Resource]:
    """The written opinion (回答書): one Composition per signed version, oldest first (status
    final, LOINC 11488-4 "Consult note", attested by the signing specialist at the signing
    time, a section per part, `relatesTo` "replaces" for a correction, the content hash)."""
    ids = _Ids(case)
    consults = consults if consults is not None else list(Consult.objects.filter(case=case))
    ended = [c for c in consults if c.ended_at]
    encounter = ids.ref("Encounter", ended[-1].pk) if ended else None
    versions = OpinionVersion.objects.filter(
        opinion__case=case, state=VersionState.SIGNED
    ).order_by("number")
    compositions = []
    for version in versions:
        sections = [
            _section("現在の診断・治療について", version.on_current),
            _section("今後の治療方針・見通しについて", version.on_future),
        ]
        sections += [
            _section(f"ご質問{n}：{item.get('question', '')}", item.get("answer", ""))
            for n, item in enumerate(version.answers, start=1)
        ]
        sections.append(_section("その他", version.remarks))
        signer = ids.ref("Practitioner", version.signed_by_id)
        signed = _instant(version.signed_at)
        compositions.append(
            _without_empty(
                {
                    "resourceType": "Composition",
                    "id": str(ids.of("Composition", version.pk)),
                    "extension": [
                        {"url": OPINION_HASH_EXTENSION, "valueString": version.content_hash}
                    ],
                    "identifier": {
                        "system": f"{SYSTEM}:opinion",
                        "value": f"{case.reference}-{version.number}",
                    },
                    "status": "final",
                    "type": {
                        "coding": [
                            {
                                "system": "http://loinc.org",
                                "code": "11488-4",
                                "display": "Consult note",
                            }
                        ],
                        "text": "セカンドオピニオン回答書",
                    },
                    "subject": ids.patient(),
                    "encounter": encounter,
                    "date": signed,
                    "author": [signer],
                    "title": "回答書",
                    "attester": [{"mode": "legal", "time": signed, "party": signer}],
                    "custodian": ids.ref("Organization", "hospital"),
                    "relatesTo": [
                        {
                            "code": "replaces",
                            "targetReference": ids.ref("Composition", version.corrects_id),
                        }
                    ]
                    if version.corrects_id
                    else None,
                    "section": [section for section in sections if section],
                }
            )
        )
    return compositions


def _section(title: str, text: str) -> Resource | None:
    if not text.strip():
        return None
    return {"title": title, "text": {"status": "generated", "div": _xhtml(text)}}


def _xhtml(text: str) -> str:
    lines = "<br/>".join(escape(line) for line in text.splitlines())
    return f'<div xmlns="http://www.w3.org/1999/xhtml">{lines}</div>'


class _Ids:
    """Stable uuids for the resources of one case."""

    def __init__(self, case: Case) -> None:
        self.case = case

    def of(self, kind: str, key: object) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"case/{self.case.pk}/{kind}/{key}")

    def ref(self, kind: str, key: object) -> Resource:
        return {"reference": f"urn:uuid:{self.of(kind, key)}"}

    def url_of(self, resource: Resource) -> str:
        return f"urn:uuid:{resource['id']}"

    def patient(self) -> Resource:
        return self.ref("Patient", self.case.pk)


def _instant(moment: datetime) -> str:
    return moment.astimezone(JST).isoformat(timespec="seconds")


def _day(day: date) -> str:
    return day.isoformat()


def _names(family: str, given: str, family_kana: str = "", given_kana: str = "") -> list[Resource]:
    """JP Core: the kanji name (IDE) and, when known, the kana name (SYL)."""
    names = [_name(family, given, "IDE")]
    if family_kana or given_kana:
        names.append(_name(family_kana, given_kana, "SYL"))
    return names


def _name(family: str, given: str, representation: str) -> Resource:
    name: Resource = {
        "extension": [{"url": EN_REPRESENTATION, "valueCode": representation}],
        "use": "official",
        "text": f"{family} {given}".strip(),
    }
    if family:
        name["family"] = family
    if given:
        name["given"] = [given]
    return name


def _telecom(phone: str = "", email: str = "") -> list[Resource]:
    points = [{"system": "phone", "value": phone, "use": "home"}] if phone else []
    return points + ([{"system": "email", "value": email}] if email else [])


def _without_empty(resource: Resource) -> Resource:
    return {key: value for key, value in resource.items() if value not in ("", [], None, {})}


def _patient(case: Case, ids: _Ids) -> Resource:
    address = None
    if case.patient_address or case.patient_postal_code:
        address = [
            _without_empty(
                {
                    "text": f"〒{case.patient_postal_code} {case.patient_address}".strip(),
                    "line": [case.patient_address] if case.patient_address else [],
                    "postalCode": case.patient_postal_code,
                    "country": "JP",
                }
            )
        ]
    return _without_empty(
        {
            "resourceType": "Patient",
            "id": str(ids.of("Patient", case.pk)),
            "identifier": [{"system": f"{SYSTEM}:case", "value": case.reference}],
            "name": _names(
                case.patient_family_name,
                case.patient_given_name,
                case.patient_family_name_kana,
                case.patient_given_name_kana,
            ),
            "telecom": _telecom(case.patient_phone, case.patient_email),
            "gender": GENDERS.get(case.patient_sex),
            "birthDate": _day(case.patient_birth_date) if case.patient_birth_date else None,
            "deceasedBoolean": case.patient_deceased,
            "address": address,
        }
    )


def _relationship(relation: str) -> list[Resource]:
    code = RELATION_CODES.get(Relation(relation), ("FAMMEMB", "family member"))
    return [{"coding": [{"system": ROLE_CODES, "code": code[0], "display": code[1]}]}]


def _related_people(case: Case, ids: _Ids) -> list[Resource]:
    """The family member who applied (when not the patient) and those who attend."""
    people = []
    if case.applicant_relation and case.applicant_relation != Relation.SELF:
        people.append(
            _without_empty(
                {
                    "resourceType": "RelatedPerson",
                    "id": str(ids.of("RelatedPerson", "applicant")),
                    "patient": ids.patient(),
                    "relationship": _relationship(case.applicant_relation),
                    "name": _names(case.applicant_family_name, case.applicant_given_name),
                    "telecom": _telecom(case.applicant_phone),
                }
            )
        )
    proxies: Iterable[Proxy] = case.proxies.all()
    for proxy in proxies:
        people.append(
            _without_empty(
                {
                    "resourceType": "RelatedPerson",
                    "id": str(ids.of("RelatedPerson", proxy.pk)),
                    "patient": ids.patient(),
                    "relationship": _relationship(proxy.relation),
                    "name": _names(
                        proxy.family_name,
                        proxy.given_name,
                        proxy.family_name_kana,
                        proxy.given_name_kana,
                    ),
                    "telecom": _telecom(proxy.phone),
                }
            )
        )
    return people


def _physician(case: Case, ids: _Ids) -> list[Resource]:
    """The attending physician (主治医), their institution and their role there."""
    resources = []
    if case.physician_institution:
        resources.append(
            _without_empty(
                {
                    "resourceType": "Organization",
                    "id": str(ids.of("Organization", "referring")),
                    "name": case.physician_institution,
                    "telecom": [{"system": "phone", "value": case.physician_phone, "use": "work"}]
                    if case.physician_phone
                    else [],
                }
            )
        )
    if case.physician_name:
        resources.append(
            {
                "resourceType": "Practitioner",
                "id": str(ids.of("Practitioner", "referring")),
                "name": [{"use": "official", "text": case.physician_name}],
            }
        )
        role: Resource = {
            "resourceType": "PractitionerRole",
            "id": str(ids.of("PractitionerRole", "referring")),
            "practitioner": ids.ref("Practitioner", "referring"),
            "code": [{"text": "主治医"}],
        }
        if case.physician_institution:
            role["organization"] = ids.ref("Organization", "referring")
        if case.physician_department:
            role["specialty"] = [{"text": case.physician_department}]
        resources.append(role)
    return resources


def _hospital(ids: _Ids) -> Resource:
    hospital = settings.HOSPITAL
    return {
        "resourceType": "Organization",
        "id": str(ids.of("Organization", "hospital")),
        "name": hospital["name"],
        "alias": [hospital["name_en"]],
        "telecom": [{"system": "phone", "value": hospital["phone"], "use": "work"}],
        "address": [
            {
                "text": f"〒{hospital['postal_code']} {hospital['address']}",
                "line": [hospital["address"]],
                "postalCode": hospital["postal_code"],
                "country": "JP",
            }
        ],
    }


def _specialist(user: Any, ids: _Ids) -> Resource:
    return {
        "resourceType": "Practitioner",
        "id": str(ids.of("Practitioner", user.pk)),
        "name": _names(user.last_name, user.first_name),
    }


REQUEST_STATUS = {
    Status.DRAFT: "draft",
    Status.REJECTED: "revoked",
    Status.DECLINED: "revoked",
    Status.WITHDRAWN: "revoked",
    Status.CANCELLED: "revoked",
    Status.NO_SHOW: "revoked",
    Status.COMPLETED: "completed",
    Status.CHARGED: "completed",
    Status.CLOSED: "completed",
}


def _service_request(case: Case, ids: _Ids, documents: list[Document]) -> Resource:
    """The second-opinion request: what is asked, about what, by whom, of which department."""
    applicant_is_patient = case.applicant_relation in ("", Relation.SELF)
    wants = []
    if case.wants_opinion_on_current:
        wants.append("現在の診断・治療方針についての意見")
    if case.wants_opinion_on_future:
        wants.append("今後の治療方針・見通しについての意見")
    notes = [{"text": "希望する意見: " + "、".join(wants)}] if wants else []
    if case.treatment_so_far:
        notes.append({"text": f"これまでの治療: {case.treatment_so_far}"})
    if case.questions:
        notes.append({"text": f"相談したいこと: {case.questions}"})
    reasons = []
    if case.current_diagnosis:
        reasons.append({"text": case.current_diagnosis})
    if case.disease_id:
        reasons.append({"text": case.disease.name})
    request = {
        "resourceType": "ServiceRequest",
        "id": str(ids.of("ServiceRequest", case.pk)),
        "identifier": [{"system": f"{SYSTEM}:case", "value": case.reference}],
        "status": REQUEST_STATUS.get(Status(case.status), "active"),
        "intent": "order",
        "category": [{"text": "セカンドオピニオン外来"}],
        "code": {"text": "セカンドオピニオン(相談)"},
        "subject": ids.patient(),
        "authoredOn": _instant(case.submitted_at) if case.submitted_at else None,
        "requester": ids.patient()
        if applicant_is_patient
        else ids.ref("RelatedPerson", "applicant"),
        "performer": [ids.ref("Organization", "hospital")],
        "performerType": {"text": case.department.name} if case.department_id else None,
        "locationCode": [{"text": "オンライン" if case.mode == Mode.ONLINE else "対面"}]
        if case.mode
        else [],
        "reasonCode": reasons,
        "supportingInfo": [ids.ref("DocumentReference", d.pk) for d in documents],
        "note": notes,
    }
    return _without_empty(request)


def _appointment(case: Case, booking: Booking, ids: _Ids) -> Resource:
    if booking.cancelled_at is not None:
        status = "cancelled"
    elif hasattr(booking, "consult") and booking.consult.state == ConsultState.ENDED:
        status = "fulfilled"
    elif hasattr(booking, "consult") and booking.consult.state == ConsultState.NO_SHOW:
        status = "noshow"
    else:
        status = "booked"
    return _without_empty(
        {
            "resourceType": "Appointment",
            "id": str(ids.of("Appointment", booking.pk)),
            "status": status,
            "cancelationReason": {"text": booking.cancel_reason} if booking.cancel_reason else None,
            "serviceType": [{"text": booking.department.name}],
            "appointmentType": {
                "coding": [_encounter_class(booking.mode)],
            },
            "start": _instant(booking.starts_at),
            "end": _instant(booking.ends_at),
            "minutesDuration": booking.minutes,
            "created": _instant(booking.booked_at),
            "basedOn": [ids.ref("ServiceRequest", case.pk)],
            "participant": [
                {"actor": ids.patient(), "status": "accepted"},
                {"actor": ids.ref("Practitioner", booking.specialist_id), "status": "accepted"},
            ],
        }
    )


def _encounter_class(mode: str) -> Resource:
    if mode == Mode.ONLINE:
        return {"system": ACT_CODES, "code": "VR", "display": "virtual"}
    return {"system": ACT_CODES, "code": "AMB", "display": "ambulatory"}


ENCOUNTER_STATUS = {
    ConsultState.WAITING: "arrived",
    ConsultState.CALLED: "arrived",
    ConsultState.IN_CALL: "in-progress",
    ConsultState.ENDED: "finished",
    ConsultState.NO_SHOW: "cancelled",
}


def _encounter(case: Case, consult: Consult, ids: _Ids) -> Resource:
    period = {}
    if consult.started_at:
        period["start"] = _instant(consult.started_at)
    if consult.ended_at:
        period["end"] = _instant(consult.ended_at)
    participants = [{"individual": ids.ref("Practitioner", consult.specialist_id)}]
    return _without_empty(
        {
            "resourceType": "Encounter",
            "id": str(ids.of("Encounter", consult.pk)),
            "status": ENCOUNTER_STATUS[ConsultState(consult.state)],
            "class": _encounter_class(consult.mode),
            "serviceType": {"text": "セカンドオピニオン外来"},
            "subject": ids.patient(),
            "basedOn": [ids.ref("ServiceRequest", case.pk)],
            "appointment": [ids.ref("Appointment", consult.booking_id)],
            "participant": participants,
            "period": period,
            "length": {
                "value": consult.call_seconds // 60,
                "unit": "min",
                "system": "http://unitsofmeasure.org",
                "code": "min",
            }
            if consult.ended_at
            else None,
            "serviceProvider": ids.ref("Organization", "hospital"),
        }
    )


def _document_reference(case: Case, document: Document, ids: _Ids) -> Resource:
    """A material's metadata and where to fetch it (the permission-checked download).

    R4's Attachment.hash is SHA-1; we keep SHA-256, so it travels in an extension instead."""
    superseded = Document.objects.filter(supersedes=document).exists()
    url = settings.SITE_URL + reverse("document-file", args=[document.pk])
    return _without_empty(
        {
            "resourceType": "DocumentReference",
            "id": str(ids.of("DocumentReference", document.pk)),
            "status": "superseded" if superseded else "current",
            "type": {
                "coding": [
                    {
                        "system": f"{SYSTEM}:document-kind",
                        "code": document.kind,
                        "display": str(document.get_kind_display()),
                    }
                ],
                "text": str(document.get_kind_display()),
            },
            "subject": ids.patient(),
            "date": _instant(document.uploaded_at),
            "description": document.note,
            "relatesTo": [
                {"code": "replaces", "target": ids.ref("DocumentReference", document.supersedes_id)}
            ]
            if document.supersedes_id
            else [],
            "content": [
                {
                    "attachment": {
                        "extension": [{"url": SHA256_EXTENSION, "valueString": document.sha256}],
                        "contentType": document.content_type,
                        "url": url,
                        "size": document.size,
                        "title": document.original_name,
                        "creation": _instant(document.uploaded_at),
                    }
                }
            ],
            "context": {"related": [ids.ref("ServiceRequest", case.pk)]},
        }
    )


def _consents(case: Case, ids: _Ids) -> list[Resource]:
    """The privacy policy accepted with the application, and each signed online-consult form."""
    consents = []
    if case.privacy_policy_id and case.privacy_accepted_at:
        consents.append(
            _consent(
                ids.of("Consent", "privacy"),
                ids,
                scope="patient-privacy",
                category=("59284-0", "Patient Consent"),
                at=case.privacy_accepted_at,
                policy=f"{SYSTEM}:privacy-policy:{case.privacy_policy.version}",
                signer=ids.patient()
                if case.applicant_relation in ("", Relation.SELF)
                else ids.ref("RelatedPerson", "applicant"),
            )
        )
    signatures: Iterable[ConsentSignature] = ConsentSignature.objects.filter(
        case=case
    ).select_related("form")
    for signature in signatures:
        consent = _consent(
            ids.of("Consent", signature.pk),
            ids,
            scope="treatment",
            category=("59284-0", "Patient Consent"),
            at=signature.signed_at,
            policy=f"{SYSTEM}:online-consult-consent:{signature.form.version}",
            signer=ids.patient(),
        )
        consent["sourceAttachment"] = {
            "extension": [{"url": SHA256_EXTENSION, "valueString": signature.text_sha256}],
            "language": signature.language,
            "title": f"オンライン診療の依頼・同意書 {signature.form.version}"
            f"(署名: {signature.signer_name})",
        }
        consents.append(consent)
    return consents


def _consent(
    uid: uuid.UUID,
    ids: _Ids,
    *,
    scope: str,
    category: tuple[str, str],
    at: datetime,
    policy: str,
    signer: Resource,
) -> Resource:
    return {
        "resourceType": "Consent",
        "id": str(uid),
        "status": "active",
        "scope": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": scope}
            ]
        },
        "category": [
            {
                "coding": [
                    {"system": "http://loinc.org", "code": category[0], "display": category[1]}
                ]
            }
        ],
        "patient": ids.patient(),
        "dateTime": _instant(at),
        "performer": [signer],
        "organization": [ids.ref("Organization", "hospital")],
        "policy": [{"uri": policy}],
    }


CHARGE_ITEM_STATUS = {
    ChargeState.NEEDS_DECISION: "planned",
    ChargeState.WAIVED: "not-billable",
}
INVOICE_STATUS = {
    ChargeState.NEEDS_DECISION: "draft",
    ChargeState.WAIVED: "cancelled",
    ChargeState.PAID: "balanced",
    ChargeState.COLLECTED: "balanced",
}


def _charge(case: Case, ids: _Ids, consults: list[Consult]) -> list[Resource]:
    """The fee: one ChargeItem (what was billable) and the Invoice (amount, tax, state)."""
    charge = Charge.objects.filter(case=case).prefetch_related("receipts").first()
    if charge is None:
        return []
    yen = {"currency": "JPY"}
    item = _without_empty(
        {
            "resourceType": "ChargeItem",
            "id": str(ids.of("ChargeItem", charge.pk)),
            "status": CHARGE_ITEM_STATUS.get(ChargeState(charge.state), "billed"),
            "code": {"text": "セカンドオピニオン外来 相談料"},
            "subject": ids.patient(),
            "context": ids.ref("Encounter", charge.consult_id)
            if any(c.pk == charge.consult_id for c in consults)
            else None,
            "quantity": {"value": charge.billable_minutes, "unit": "min"},
            "priceOverride": {"value": charge.amount, **yen},
            "overrideReason": f"料金区分 {charge.tier}(税込)" if charge.tier else None,
            "enteredDate": _instant(charge.created_at),
            "performingOrganization": ids.ref("Organization", "hospital"),
        }
    )
    net = charge.amount - charge.tax
    invoice = _without_empty(
        {
            "resourceType": "Invoice",
            "id": str(ids.of("Invoice", charge.pk)),
            "identifier": [
                {"system": f"{SYSTEM}:receipt", "value": f"{receipt.number:08d}"}
                for receipt in charge.receipts.all()
            ],
            "status": INVOICE_STATUS.get(ChargeState(charge.state), "issued"),
            "cancelledReason": charge.decision_reason if charge.state == ChargeState.WAIVED else "",
            "subject": ids.patient(),
            "date": _instant(charge.settled_at or charge.created_at),
            "issuer": ids.ref("Organization", "hospital"),
            "lineItem": [
                {
                    "sequence": 1,
                    "chargeItemReference": ids.ref("ChargeItem", charge.pk),
                    "priceComponent": [
                        {"type": "base", "amount": {"value": net, **yen}},
                        {
                            "type": "tax",
                            "code": {"text": f"消費税 {charge.tax_rate_percent}%"},
                            "factor": charge.tax_rate_percent / 100,
                            "amount": {"value": charge.tax, **yen},
                        },
                    ],
                }
            ],
            "totalNet": {"value": net, **yen},
            "totalGross": {"value": charge.amount, **yen},
            "paymentTerms": _payment_terms(charge),
            "note": [{"text": f"返金 {charge.refunded}円"}] if charge.refunded else [],
        }
    )
    return [item, invoice]


def _payment_terms(charge: Charge) -> str:
    """The state of the fee as its code (and how it was paid at the hospital)."""
    if charge.collect_method:
        return f"{charge.state} ({charge.collect_method})"
    return str(charge.state)
