"""What the consult's pages and their script say, in the page's language (the script has no
words of its own). Calm and plain: the patient may be elderly and worried."""

from django.utils.translation import gettext as _


def room_texts() -> dict[str, str]:
    """Every text the room's script shows; %(name)s-style fields are filled in by the script."""
    return {
        "in_person": _("Your consult is at the hospital: there is no video call."),
        "connecting": _("Connecting to the hospital…"),
        "not_open": _("The waiting room opens at %(time)s. This page opens it by itself."),
        "waiting": _(
            "Please wait. The doctor will call you in. You can stay on this page; there is "
            "nothing else to do."
        ),
        "called": _("The doctor is calling you in."),
        "confirm_present": _(
            "Before the consult starts, please tell us who is with you: tick everyone "
            "present and add anyone else."
        ),
        "confirm_present_hospital": _("Confirm who is present at the hospital."),
        "present_sent": _("Thank you. The consult starts when the doctor is ready."),
        "other_person": _("Someone else (name and relation)"),
        "add": _("Add"),
        "send": _("Send"),
        "confirm": _("Confirm"),
        "in_call": _("In the consult"),
        "ended": _("The consult has ended. Thank you."),
        "ended_limit": _("The consult has reached its time limit and has ended."),
        "after_patient": _(
            "The fee is charged to your registered card (or paid at the hospital), and the "
            "written opinion is sent to your attending physician. You can close this page."
        ),
        "after_hospital": _("Please write the opinion on the case page."),
        "reconnecting": _("The connection was lost. Reconnecting…"),
        "reconnected": _("Connected again."),
        "rejoin_failed": _(
            "We could not reconnect. Trying again… If this goes on, please reload the page or "
            "call us."
        ),
        "refused_device": _(
            "This consult is already open on another device or tab. Only one device can join "
            "on the patient's side. If the other device is no longer working (for example, its "
            "battery ran out), you can continue on this one instead."
        ),
        "take_over": _("Continue on this device"),
        "taken_over": _(
            "The consult continues on another device, so this page has stopped. You can close it."
        ),
        "closed": _("The waiting room is not available: %(message)s"),
        "waiting_patient": _("The patient is in the waiting room."),
        "no_patient": _("The patient has not arrived yet."),
        "call_in": _("Call the patient in"),
        "start_call": _("Start the consult"),
        "end_call": _("End the consult"),
        "end_confirm": _("End the consult now? The time is then fixed for the fee."),
        "message_placeholder": _("e.g. I will be about 10 minutes late."),
        "message_sent": _("Message sent."),
        "from_doctor": _("Message from the doctor"),
        "mute": _("Mute"),
        "unmute": _("Unmute"),
        "camera_off": _("Turn camera off"),
        "camera_on": _("Turn camera on"),
        "share_screen": _("Share screen"),
        "stop_sharing": _("Stop sharing"),
        "audio_only": _("Sound only"),
        "video_again": _("Video again"),
        "audio_only_auto": _(
            "The connection is weak, so the picture is off and only the sound continues."
        ),
        "quality_good": _("Connection: good"),
        "quality_fair": _("Connection: fair"),
        "quality_poor": _("Connection: poor"),
        "camera": _("Camera"),
        "microphone": _("Microphone"),
        "billable": _("Time (review and consult): %(time)s"),
        "warning_boundary": _(
            "In about %(minutes)s minutes the consult passes 30 minutes: the fee then changes to "
            "the 60-minute fee."
        ),
        "warning_end": _("The consult ends in about %(minutes)s minutes."),
        "chat": _("Messages (if the sound does not work)"),
        "chat_you": _("You"),
        "chat_doctor": _("Doctor"),
        "chat_patient": _("Patient's side"),
        "notes_saved": _("Notes saved %(time)s"),
        "notes_saving": _("Saving…"),
        "media_failed": _(
            "The camera or microphone could not be started. Please allow them in the browser "
            "(the icon in the address bar), or call us."
        ),
        "patient_arrived": _("%(reference)s: the patient is in the waiting room."),
        "error": _("That did not work: %(message)s"),
    }
