"""What the public pages say about each code of SPEC §3: relations, reasons and documents.

The rules return codes; this module is where the codes become kind, plain words (English
msgids, translated to Japanese in locale/ja). Nothing here decides anything.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from opiniondesk.cases.eligibility import Reason
from opiniondesk.cases.kinship import Relation
from opiniondesk.catalog.vocabulary import DocumentCode, Mode
from opiniondesk.core.wording import name_in_language


def local_name(obj: Any) -> str:
    """A catalog entry's or the hospital's name in the active language (Japanese by default)."""
    if isinstance(obj, Mapping):
        return name_in_language(obj.get("name", ""), obj.get("name_en", ""))
    return name_in_language(obj.name, getattr(obj, "name_en", ""))


RELATION_NAMES: dict[Relation, Promise] = {
    Relation.SELF: _("I am the patient"),
    Relation.SPOUSE: _("The patient's husband or wife"),
    Relation.PARENT: _("The patient's father or mother"),
    Relation.CHILD: _("The patient's son or daughter"),
    Relation.GRANDPARENT: _("The patient's grandparent"),
    Relation.GRANDCHILD: _("The patient's grandchild"),
    Relation.SIBLING: _("The patient's brother or sister"),
    Relation.GREAT_GRANDPARENT: _("The patient's great-grandparent"),
    Relation.GREAT_GRANDCHILD: _("The patient's great-grandchild"),
    Relation.UNCLE_AUNT: _("The patient's uncle or aunt"),
    Relation.NEPHEW_NIECE: _("The patient's nephew or niece"),
    Relation.COUSIN: _("The patient's cousin"),
    Relation.GRAND_UNCLE_AUNT: _("The patient's great-uncle or great-aunt"),
    Relation.GRANDNEPHEW_NIECE: _("The patient's grandnephew or grandniece"),
    Relation.GREAT_GREAT_GRANDPARENT: _("The patient's great-great-grandparent"),
    Relation.GREAT_GREAT_GRANDCHILD: _("The patient's great-great-grandchild"),
    Relation.PARENT_IN_LAW: _("The parent of the patient's spouse"),
    Relation.CHILD_IN_LAW: _("The spouse of the patient's child"),
    Relation.STEPCHILD: _("The child of the patient's spouse (stepchild)"),
    Relation.SIBLING_IN_LAW: _(
        "The brother or sister of the patient's spouse, or the spouse of the patient's "
        "brother or sister"
    ),
    Relation.GRANDPARENT_IN_LAW: _("The grandparent of the patient's spouse"),
    Relation.GRANDCHILD_IN_LAW: _("The spouse of the patient's grandchild"),
    Relation.UNCLE_AUNT_IN_LAW: _("The uncle or aunt of the patient's spouse"),
    Relation.NEPHEW_NIECE_IN_LAW: _("The nephew or niece of the patient's spouse"),
    Relation.OTHER: _("Someone else (a friend, an acquaintance, …)"),
}

MODE_NAMES: dict[Mode, Promise] = {
    Mode.ONLINE: _("Online (video call)"),
    Mode.IN_PERSON: _("In person"),
}


@dataclass(frozen=True)
class Explanation:
    title: Promise
    why: Promise
    instead: Promise
    call_us: bool = False  # show the phone desk beside this explanation


REASONS: dict[Reason, Explanation] = {
    Reason.REQUESTER_NOT_FAMILY: Explanation(
        _("Only the patient or family within the third degree can consult"),
        _(
            "A second opinion is asked for by the patient. When the patient cannot do it, "
            "a family member within the third degree of kinship can consult instead."
        ),
        _(
            "Please ask the patient, or a family member within the third degree (for example "
            "a spouse, parent, child, brother or sister), to apply."
        ),
    ),
    Reason.PROXY_CONSENT_MISSING: Explanation(
        _("The patient's consent form is needed"),
        _(
            "When a family member consults for a patient aged 18 or over, we need a consent "
            "form (相談同意書) signed by the patient."
        ),
        _(
            "Please ask the patient to sign the consent form. If the patient cannot sign "
            "because of their condition, write a note on the form saying so: the note is "
            "accepted in place of the signature. If you cannot get the form, please call us."
        ),
        call_us=True,
    ),
    Reason.WANTS_TESTS_OR_TREATMENT: Explanation(
        _("We do not perform tests or treatment in a second opinion"),
        _(
            "A second opinion is advice from our specialist, based on the materials from "
            "your attending physician. No new tests or treatment are done."
        ),
        _(
            "If you would like tests or treatment at our hospital, please ask your attending "
            "physician for a referral letter and see us in our regular outpatient clinic."
        ),
    ),
    Reason.WANTS_TRANSFER: Explanation(
        _("A second opinion is not a way to transfer to our hospital"),
        _(
            "A second opinion helps you choose your treatment with your current attending "
            "physician. It cannot be used to move your care to our hospital from the start."
        ),
        _(
            "A transfer is arranged by a referral: please ask your attending physician for a "
            "referral letter (診療情報提供書) to our regular outpatient clinic."
        ),
    ),
    Reason.COMPLAINT_OR_LITIGATION: Explanation(
        _("We cannot take questions about complaints, medical accidents or lawsuits"),
        _(
            "A second opinion gives medical advice on the diagnosis and treatment. It cannot "
            "judge your attending physician or a dispute."
        ),
        _(
            "If you are unhappy with your care, please talk to the patient consultation desk "
            "(患者相談窓口) of the hospital where you are treated. For a medical accident or a "
            "dispute, the medical safety support center (医療安全支援センター) of your "
            "prefecture or a lawyer can help."
        ),
    ),
    Reason.PATIENT_DECEASED: Explanation(
        _("We cannot give a second opinion about a patient who has passed away"),
        _(
            "We are very sorry for your loss. A second opinion is advice for the patient's "
            "future treatment, so it cannot be given after the patient has died."
        ),
        _(
            "If you have questions about the treatment the patient received, please ask the "
            "hospital that treated the patient."
        ),
    ),
    Reason.FEE_OR_BENEFIT_QUESTION: Explanation(
        _("We cannot take questions about medical fees or benefits"),
        _("A second opinion is about the diagnosis and treatment only."),
        _(
            "For medical fees, please ask the hospital where you are treated. For medical "
            "benefits (for example the high-cost medical expense benefit), please ask your "
            "health insurer or your city office."
        ),
    ),
    Reason.ATTENDING_PHYSICIAN_NOT_AGREED: Explanation(
        _("Your attending physician's agreement is needed"),
        _(
            "Our specialist gives an opinion on your attending physician's diagnosis and "
            "treatment, so the attending physician must agree and send a referral letter."
        ),
        _(
            "Please first tell your attending physician that you would like a second "
            "opinion. When they agree, apply again."
        ),
    ),
    Reason.MATERIALS_UNAVAILABLE: Explanation(
        _("The referral letter and test data are needed"),
        _(
            "Our specialist forms an opinion from the referral letter and the test data "
            "(results and images). Without them, we cannot give an opinion."
        ),
        _(
            "Please ask your attending physician to prepare the referral letter (診療情報提供書) "
            "and the test data. Apply when you can send them."
        ),
    ),
    Reason.NO_SPECIALIST: Explanation(
        _("We have no specialist for this consultation"),
        _(
            "The department you chose does not cover this disease, does not offer this kind "
            "of consult, or is not in our list."
        ),
        _("Please check the departments below, or call us if you are not sure."),
        call_us=True,
    ),
    Reason.OVERSEAS_NO_JP_INSURANCE: Explanation(
        _("We cannot accept patients living abroad without Japanese health insurance"),
        _(
            "Our second opinion service is for patients living in Japan or covered by "
            "Japanese public health insurance."
        ),
        _("Please consult a medical institution in the country where the patient lives."),
    ),
    Reason.OVERSEAS_ONLINE: Explanation(
        _("An online consult cannot be joined from abroad"),
        _("The online consult system is made for use within Japan only."),
        _(
            "Please join the online consult from inside Japan, or choose an in-person "
            "second opinion at our hospital instead."
        ),
    ),
    Reason.PRIVACY_NOT_ACCEPTED: Explanation(
        _("Agreement to our privacy policy is needed"),
        _(
            "We handle the patient's medical information under our privacy policy. Without "
            "your agreement, we cannot hold a consult."
        ),
        _(
            "The privacy policy comes with the application. If you have questions about it, "
            "please call us."
        ),
        call_us=True,
    ),
}


DOCUMENT_TITLES: dict[DocumentCode, Promise] = {
    DocumentCode.REFERRAL_LETTER: _("Referral letter (診療情報提供書)"),
    DocumentCode.TEST_DATA: _("Test data and images"),
    DocumentCode.CONSENT_FORM: _("Consent form signed by the patient (相談同意書)"),
    DocumentCode.RELATIONSHIP_PROOF: _("A document showing your relation to the patient"),
    DocumentCode.PROXY_ID: _("A copy of an ID of each family member who will attend"),
    DocumentCode.MEDICATION_LIST: _("A list of medicines, or a copy of the medicine notebook"),
}


@dataclass(frozen=True)
class DocumentNote:
    what: Promise
    who: Promise


DOCUMENT_NOTES: dict[DocumentCode, DocumentNote] = {
    DocumentCode.REFERRAL_LETTER: DocumentNote(
        _("A letter that sums up the diagnosis and the treatment so far."),
        _("Written by your attending physician: please ask them for it."),
    ),
    DocumentCode.TEST_DATA: DocumentNote(
        _(
            "At least one of: blood test results, physiological tests (ECG, lung function, "
            "EEG), X-ray images, ultrasound reports and images, CT or MRI images, pathology "
            "reports. What is needed depends on the illness. Glass slides (プレパラート) "
            "are not accepted."
        ),
        _("Prepared by your attending physician's hospital: please ask your physician."),
    ),
    DocumentCode.CONSENT_FORM: DocumentNote(
        _(
            "The patient's written agreement that you consult for them. If the patient cannot "
            "sign because of their condition, add a note on the form saying so."
        ),
        _("Signed by the patient. The form comes with the application papers."),
    ),
    DocumentCode.RELATIONSHIP_PROOF: DocumentNote(
        _(
            "If you live with the patient: a resident record (住民票). If you live apart: a "
            "family register (戸籍謄本)."
        ),
        _("Issued by your city or town office."),
    ),
    DocumentCode.PROXY_ID: DocumentNote(
        _("A copy of a driver's licence or a health insurance card, for each person."),
        _("Each family member who will attend the consult."),
    ),
    DocumentCode.MEDICATION_LIST: DocumentNote(
        _("Needed for the geriatrics department: every medicine the patient takes now."),
        _("From your pharmacy or the patient's medicine notebook (お薬手帳)."),
    ),
}

# For a patient under 18, a copy of the health insurance card is enough (SPEC §3).
MINOR_RELATIONSHIP_NOTE = DocumentNote(
    _(
        "The patient is under 18: a copy of a health insurance card that shows your relation "
        "to the patient is enough."
    ),
    _("You, from the health insurance card."),
)
