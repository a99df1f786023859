"""Names that are data, stored in Japanese with an optional English name beside them (the
catalog's departments and diseases, the hospital's settings): the one rule for showing them."""

from django.conf import settings
from django.utils.translation import get_language


def in_english() -> bool:
    return (get_language() or settings.LANGUAGE_CODE).startswith("en")


def name_in_language(name: str, name_en: str) -> str:
    """The English name when English is active and there is one; else the Japanese name."""
    return name_en if name_en and in_english() else name


def hospital_name() -> str:
    """The hospital's name in the active language (HOSPITAL_NAME, HOSPITAL_NAME_EN)."""
    return name_in_language(settings.HOSPITAL["name"], settings.HOSPITAL.get("name_en", ""))
