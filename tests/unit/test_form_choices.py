"""Choice fields get their options as WTForms SelectChoice (WTForms 3.3 deprecates tuples), and the checks that
refuse a value not offered read the options whichever way a field was given them."""

from __future__ import annotations

import warnings

import pytest
from wtforms import Form, RadioField, SelectField

from marketplace.forms import MultiCheckboxField, offered, options

PAIRS = [("kent", "Kent"), ("medway", "Medway")]


def test_options_build_choice_fields_without_a_wtforms_deprecation_warning():
    class Shape(Form):
        radios = RadioField(choices=options(PAIRS))
        select = SelectField(choices=options(dict(PAIRS)))
        boxes = MultiCheckboxField(choices=options(PAIRS))

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        form = Shape()

    assert [(c.value, c.label) for c in form.radios.iter_choices()] == PAIRS
    assert [(c.value, c.label) for c in form.select.iter_choices()] == PAIRS


def test_tuple_choices_are_what_wtforms_warns_about():
    """The test above can fail: WTForms does warn about the shape options() replaces."""

    class Shape(Form):
        radios = RadioField(choices=PAIRS)

    with pytest.warns(DeprecationWarning, match="choices as tuples"):
        Shape()


@pytest.mark.parametrize("given", [options(PAIRS), PAIRS, dict(PAIRS)], ids=["options", "pairs", "mapping"])
def test_the_values_offered_are_read_whichever_way_the_choices_were_given(given):
    class Shape(Form):
        area = SelectField(choices=[])

    form = Shape()
    form.area.choices = given
    assert offered(form.area) == {"kent", "medway"}


def test_a_checkbox_value_not_offered_is_refused_with_a_plain_message():
    class Shape(Form):
        boxes = MultiCheckboxField(choices=options(PAIRS))

    form = Shape(data={"boxes": ["kent", "narnia"]})

    assert not form.validate()
    assert form.boxes.errors == ["Select from the options shown"]
