import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.dialplan.numbers import NumberFormatError, national, normalize, pretty

NBH, NNBSP = "\u2011", "\u202f"


@pytest.mark.parametrize("raw, e164", [
    (f"8{NNBSP}800{NNBSP}555{NBH}35{NBH}35", "+78005553535"),
    (f"8{NBH}800{NBH}555{NBH}35{NBH}35", "+78005553535"),
    ("+7 800 555 35 35", "+78005553535"),
    ("8 (800) 555-35-35", "+78005553535"),
    (f"+7 (495) 777{NBH}77{NBH}77", "+74957777777"),
    (f"00 + 7 495 777{NBH}77{NBH}77", "+74957777777"),
    (f"8{NBH}495{NBH}777{NBH}77 77", "+74957777777"),
    ("78005553535", "+78005553535"),
    ("8005553535", "+78005553535"),
    ("sip:88005553535@host", "+78005553535"),
    ("sip:+78005553535@10.0.0.1:5060;user=phone", "+78005553535"),
    ("tel:+7-800-555-35-35", "+78005553535"),
    ("102", "102"),
    ("sip:102@pbx", "102"),
    ("8 10 44 20 7946 0958", "+442079460958"),
    ("+44 20 7946 0958", "+442079460958"),
])
def test_every_notation_normalises(raw, e164):
    assert normalize(raw) == e164


@pytest.mark.parametrize("raw, reason", [
    ("", "empty"),
    ("   ", "empty"),
    ("8 800 555", "7 digits"),
    ("8 800 555 35 35 5", "12 digits"),
    ("+7 800 555 35", "+7 must be followed by 10 digits"),
    ("hotline", "unexpected character"),
    ("8 800 555-35-3O", "unexpected character"),
    ("+0 800 555 35 35", "never starts with 0"),
    ("1", "too short"),
    ("+7 800 555 35 35 +1", "'+' only at the start"),
    ("８８００５５５３５３５", "non-ASCII"),
])
def test_malformed_input_gets_a_clear_reason(raw, reason):
    with pytest.raises(NumberFormatError) as err:
        normalize(raw)
    assert reason in str(err.value)
    assert repr(raw) in str(err.value)


SEPARATORS = st.sampled_from([" ", "-", NBH, NNBSP, "\u00a0", ""])


@given(st.text("0123456789", min_size=10, max_size=10).filter(lambda d: d[0] != "0"),
       st.lists(SEPARATORS, min_size=4, max_size=4), st.sampled_from(["8", "+7", "7", "00 + 7"]))
def test_any_separators_and_prefix_give_the_same_e164(nsn, seps, prefix):
    raw = f"{prefix}{seps[0]}{nsn[:3]}{seps[1]}{nsn[3:6]}{seps[2]}{nsn[6:8]}{seps[3]}{nsn[8:]}"
    assert normalize(raw) == "+7" + nsn


def test_national_and_pretty_forms():
    assert national("+78005553535") == "88005553535"
    assert pretty("+78005553535") == "8 800 555-35-35"
    assert pretty("+74957777777") == "+7 495 777-77-77"
    assert pretty("102") == "102"
