"""Personal data never reaches a log line unmasked, whatever field it sits in."""
import io
import json

import structlog

from ivr.logs import configure_logging, mask_value

NBH, NNBSP = "\u2011", "\u202f"


def emit(fmt="json", **fields):
    buf = io.StringIO()
    configure_logging(fmt, stream=buf)
    structlog.get_logger().bind(call_id="srv1-1732351200.17").info("ivr.step", **fields)
    return buf.getvalue()


def test_json_line_masks_every_kind_of_personal_number():
    out = emit(caller="+7 916 123-45-67", snils="112-233-445 95", inn="500100732259",
               passport="4509 123456", otp="654321", code=123456,
               text=f"позвонил 8{NNBSP}916{NNBSP}123{NBH}45{NBH}67",
               nested={"citizen": {"passport": "4509123456", "phones": ["89161234567"]}},
               did="+78005553535")
    data = json.loads(out)
    for secret in ("9161234567", "916 123", "123-45", "1122334459", "112-233", "5001007322",
                   "4509", "654321", "123456"):
        assert secret not in out, secret
    assert data["caller"].endswith("67") and data["snils"].endswith("95")
    assert data["otp"] == "***" and data["code"] == "***"
    assert data["nested"]["citizen"]["phones"] == ["*********67"]
    assert data["call_id"] == "srv1-1732351200.17" and data["did"] == "+78005553535"
    assert data["event"] == "ivr.step" and data["level"] == "info"


def test_console_output_is_masked_too_including_exceptions():
    buf = io.StringIO()
    configure_logging("console", stream=buf)
    try:
        raise ValueError("bad SNILS 112-233-445 95")
    except ValueError:
        structlog.get_logger().exception("ivr.failed", caller="89161234567")
    out = buf.getvalue()
    assert "9161234567" not in out and "112-233-445" not in out
    assert "*********67" in out and "ValueError" in out


def test_short_numbers_and_counts_are_left_alone():
    assert mask_value(102, "digits") == 102
    assert mask_value("press 1 then 2", "prompt") == "press 1 then 2"
    assert mask_value("ждать 5 минут", "text") == "ждать 5 минут"


def test_json_exceptions_are_masked_and_carry_no_local_variables():
    buf = io.StringIO()
    configure_logging("json", stream=buf)
    snils = "112-233-445 95"  # noqa: F841 - a local the traceback must not show
    try:
        raise ValueError("bad SNILS 112-233-445 95")
    except ValueError:
        structlog.get_logger().exception("ivr.failed")
    out = buf.getvalue()
    data = json.loads(out)
    assert "112-233-445" not in out and "***-***-*** 95" in out
    assert "locals" not in json.dumps(data["exception"])


def test_an_unknown_dialled_number_is_masked_but_hotline_dids_are_not():
    """Issue 13 item 14: ``unknown_number did=<a mobile>`` was logged in clear."""
    from ivr.logs import mask_value

    assert mask_value("+79161234567", "did") == "+*********67"
    assert mask_value("89161234567", "dnid").endswith("67") and "9161234" not in mask_value(
        "89161234567", "dnid")
    assert mask_value("88005553535", "did") == "88005553535"
    assert mask_value("+78005553535", "dnid") == "+78005553535"


def test_the_service_own_address_stays_readable_a_number_beside_it_does_not():
    from ivr.logs import mask_personal_data

    out = mask_personal_data(None, "info", {"event": "sip_listening", "host": "127.0.0.1",
                                            "port": 5060, "gateway": "10.0.0.5:5080",
                                            "caller": "+79161234567"})
    assert (out["host"], out["port"], out["gateway"]) == ("127.0.0.1", 5060, "10.0.0.5:5080")
    assert "1234" not in out["caller"]
