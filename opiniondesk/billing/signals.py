"""What billing tells the layers above it (billing sits below the cases, so it cannot move a case
itself): the desk moves the case to `charged` and writes to the patient."""

from django.dispatch import Signal

# The fee of a case is settled (paid by card, collected at the hospital, or waived), inside the
# transaction that settled it, with the case row locked: kwargs `charge`, `case`, `actor`,
# `request`.
fee_settled = Signal()

# A card charge failed or needs the payer's confirmation; sent after the commit: kwargs `charge`.
charge_failed = Signal()
