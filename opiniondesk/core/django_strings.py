"""Django's own strings that its Japanese catalog does not translate yet; our catalog carries them.

Nothing imports this module: it only lets `make messages` (makemessages) find these msgids, so
that locale/ja keeps their translations. Drop an entry once Django's catalog translates it.
"""

from django.utils.translation import gettext_noop

DJANGO_STRINGS = [
    # Django 6.1's empty choice of select boxes (django.db.models.fields.BLANK_CHOICE_LABEL),
    # e.g. in the admin's action menu and the department page's inlines.
    gettext_noop("- Select an option -"),
    # The admin's date hierarchy (the audit log list), untranslated in Django's ja catalog.
    gettext_noop("Filter by %(field_name)s"),
]
