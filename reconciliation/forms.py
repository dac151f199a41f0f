from django import forms


class SignOffForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Sign-off note",
        help_text="What you checked and anything left open. Kept with the close.",
    )
    confirm = forms.BooleanField(label="I have reviewed this month; lock its reports.")
