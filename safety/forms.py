"""The public report forms and the staff action form: shapes only; safety.actions decides."""

from django import forms

from safety.actions import MAX_DETAILS
from safety.models import Report

IMAGE_REASONS = list(Report.Reason.choices)
REMOVAL_REASONS = [(Report.Reason.NOT_CONSENTED, "It shows me, and I did not agree to it"),
                   (Report.Reason.MINOR, "It shows my child"),
                   (Report.Reason.OTHER, "Something else")]


class ReportForm(forms.Form):
    reason = forms.ChoiceField(label="What is wrong with this image?", choices=IMAGE_REASONS,
                               widget=forms.RadioSelect,
                               error_messages={"required": "Choose what is wrong."})
    details = forms.CharField(label="Anything we should know", required=False,
                              max_length=MAX_DETAILS, widget=forms.Textarea(attrs={"rows": 4}))
    contact = forms.EmailField(label="Your e-mail address", required=False,
                               help_text="Only if you want to hear back from us.")


class RemovalForm(forms.Form):
    link = forms.CharField(
        label="Where did you see it?", required=False, max_length=500,
        help_text="A shared image's link (…/s/…) or the model's Hugging Face page.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    reason = forms.ChoiceField(label="Why should it come down?", choices=REMOVAL_REASONS,
                               widget=forms.RadioSelect, initial=Report.Reason.NOT_CONSENTED)
    details = forms.CharField(label="Tell us more", required=False, max_length=MAX_DETAILS,
                              widget=forms.Textarea(attrs={"rows": 4}))
    photo = forms.ImageField(
        label="A photo of you (optional)", required=False,
        help_text="It helps us see that the model shows you: we compare the faces and keep only "
                  "the result, never the photo.")
    contact = forms.EmailField(label="Your e-mail address",
                               error_messages={"required": "Give an e-mail address, so we can "
                                                           "tell you what we did."})


class StaffActionForm(forms.Form):
    ACTIONS = [("remove_image", "Remove the image"), ("suspend_model", "Suspend the model"),
               ("reinstate_model", "Reinstate the model"),
               ("suspend_account", "Suspend the account"),
               ("reinstate_account", "Reinstate the account"),
               ("dismiss", "Dismiss the report"), ("override_consent", "Accept the selfie")]
    action = forms.ChoiceField(choices=ACTIONS)
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": "Say why: the reason is kept in the "
                                                         "audit trail."})
