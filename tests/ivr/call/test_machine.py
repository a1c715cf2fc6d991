"""The sans-IO IVR machine: feed events, read commands — no database, no clock, no driver."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ivr.call import requests as io
from ivr.call.machine import RESULTS, IvrMachine, IvrStateError, S
from ivr.call.protocol import (
    CallerHangup,
    Collect,
    Digits,
    DriverError,
    Enqueue,
    Hangup,
    NoInput,
    Play,
)
from ivr.citizens.checksums import inn12_from, snils_check_digits
from ivr.dialplan.menus import load_menus

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday
SNILS = "112233445" + snils_check_digits("112233445")
BAD_SNILS = SNILS[:-1] + str((int(SNILS[-1]) + 1) % 10)
MENUS = load_menus("dialplans")


@dataclass(frozen=True)
class FakeRoute:
    line: str = "federal"
    region: str = "RU"
    open: bool = True
    menu: str = "main"
    languages: tuple[str, ...] = ("ru",)
    next_open: datetime | None = None
    emergency: bool = True


class StubSpeaker:
    def minutes(self, n: int, lang: str) -> tuple[str, ...]:
        return (f"n{n}", "minutes")

    def number(self, n: int, lang: str) -> tuple[str, ...]:
        return (f"n{n}",)

    def day(self, d: date, lang: str) -> tuple[str, ...]:
        return (f"d{d.isoformat()}",)

    def moment(self, at: datetime, lang: str) -> tuple[str, ...]:
        return (f"t{at.isoformat()}",)


def machine(**route) -> IvrMachine:
    return IvrMachine(MENUS, FakeRoute(**route), StubSpeaker(), call_id="c1", caller="+79161234567",
                      did="+78005553535", emergency=("security", 10),
                      priorities={"security": 10})


def prompts(cmds) -> list[str]:
    return [p for c in cmds if isinstance(c, Play | Collect) for p in c.prompts]


def outcome(cmds) -> dict:
    rows = [c.row for c in cmds if isinstance(c, io.RecordOutcome)]
    assert len(rows) == 1
    return rows[0]


def test_single_language_line_greets_notifies_and_offers_menu():
    m = machine()
    cmds = m.start(NOW)
    assert prompts(cmds)[:2] == ["welcome_main", "consent_recording"]
    assert isinstance(cmds[-1], Collect) and cmds[-1].prompts == ("menu_main", "menu_hint")
    assert m.state is S.MENU


def test_international_line_picks_english_by_key():
    m = machine(languages=("ru", "en"))
    cmds = m.start(NOW)
    assert cmds[-1].prompts == ("lang_choice",)
    cmds = m.feed(Digits("2"), NOW)
    assert m.lang == "en" and cmds[-1].lang == "en"
    assert "consent_recording" in prompts(cmds)


def test_language_silence_defaults_to_first_after_retries():
    m = machine(languages=("ru", "en"))
    m.start(NOW)
    for _ in range(MENUS.settings.retries):
        cmds = m.feed(NoInput(), NOW)
        assert prompts(cmds)[0] == "no_input"
    m.feed(NoInput(), NOW)
    assert m.lang == "ru" and m.state is S.MENU


def test_menu_item_queues_after_wait_announcement():
    m = machine()
    m.start(NOW)
    cmds = m.feed(Digits("3"), NOW)
    assert cmds == [io.EstimateWait("documents", 0)]
    cmds = m.feed(io.WaitResult(5 * 60 - 10), NOW)
    assert prompts(cmds) == ["wait_expected", "n5", "minutes", "connecting"]
    enq = cmds[-1]
    assert isinstance(enq, Enqueue) and enq.skill == "documents"
    assert enq.record["skill"] == "documents" and enq.record["identified"] is False
    row = outcome(cmds)
    assert row["outcome"] == "queued" and row["menu_path"] == ["main:3:documents"]
    assert m.done and m.feed(Digits("1"), NOW) == []


def test_star_repeats_hash_goes_back_zero_is_operator():
    m = machine()
    m.start(NOW)
    assert m.feed(Digits("8"), NOW)[-1].prompts[0] == "menu_more"
    assert m.feed(Digits("*"), NOW)[-1].prompts[0] == "menu_more"
    assert m.feed(Digits("#"), NOW)[-1].prompts[0] == "menu_main"
    assert m.feed(Digits("#"), NOW)[-1].prompts[0] == "menu_main"
    assert m.feed(Digits("0"), NOW) == [io.EstimateWait("general", 0)]


@pytest.mark.parametrize("is_open", [True, False])
def test_three_reprompts_then_operator_or_after_hours(is_open):
    nxt = NOW + timedelta(hours=12)
    m = machine(open=is_open, next_open=None if is_open else nxt)
    m.start(NOW)
    for i in range(MENUS.settings.retries):
        cmds = m.feed(NoInput() if i % 2 else Digits("x"), NOW)
        assert prompts(cmds)[0] in ("no_input", "invalid_choice")
    cmds = m.feed(NoInput(), NOW)
    if is_open:
        assert cmds == [io.EstimateWait("general", 0)]
    else:
        assert prompts(cmds) == ["after_hours", "next_open_at", f"t{nxt.isoformat()}", "goodbye"]
        assert outcome(cmds)["outcome"] == "after_hours" and isinstance(cmds[-1], Hangup)


def test_after_hours_leave_a_request_for_first_working_hour():
    nxt = NOW + timedelta(hours=10)
    m = machine(open=False, next_open=nxt)
    m.start(NOW)
    cmds = m.feed(Digits("4"), NOW)
    assert prompts(cmds)[:3] == ["after_hours", "next_open_at", f"t{nxt.isoformat()}"]
    assert cmds[-1].prompts == ("after_hours_offer",)
    cmds = m.feed(Digits("1"), NOW)
    assert len(cmds) == 1 and isinstance(cmds[0], io.RequestCallback)
    assert cmds[0].due == nxt and cmds[0].skill == "payments"
    cmds = m.feed(io.CallbackResult(True, nxt, 3), NOW)
    row = outcome(cmds)
    assert row["outcome"] == "after_hours" and row["callback_requested"] is True
    assert "callback_accepted" in prompts(cmds) and "n3" in prompts(cmds)
    assert isinstance(cmds[-1], Hangup)


def test_after_hours_info_is_self_service():
    m = machine(open=False, next_open=NOW)
    m.start(NOW)
    m.feed(Digits("8"), NOW)
    cmds = m.feed(Digits("7"), NOW)
    assert prompts(cmds)[0] == "info_hours"
    row = outcome(m.feed(CallerHangup(), NOW))
    assert row["outcome"] == "self_served"


@pytest.mark.parametrize("is_open", [True, False])
def test_security_incident_always_reaches_emergency_with_top_priority(is_open):
    m = machine(open=is_open, next_open=None if is_open else NOW)
    m.start(NOW)
    cmds = m.feed(Digits("9"), NOW)
    assert prompts(cmds) == ["emergency_connect"]
    assert isinstance(cmds[-1], Enqueue) and (cmds[-1].skill, cmds[-1].priority) == ("security", 10)
    assert outcome(cmds)["outcome"] == "queued"


def test_long_wait_offers_callback_that_keeps_place():
    m = machine()
    m.start(NOW)
    m.feed(Digits("5"), NOW)
    cmds = m.feed(io.WaitResult(21 * 60), NOW)
    assert prompts(cmds) == ["wait_expected", "n21", "minutes", "long_wait_offer"]
    cmds = m.feed(Digits("1"), NOW)
    req = cmds[0]
    assert isinstance(req, io.RequestCallback) and req.due is None
    assert req.record["arrival_time"] == NOW.timestamp() and req.record["skill"] == "tech"
    cmds = m.feed(io.CallbackResult(True, None, 7), NOW)
    row = outcome(cmds)
    assert row["outcome"] == "queued" and row["callback_requested"] and isinstance(cmds[-1], Hangup)


@pytest.mark.parametrize("seconds", [float("inf"), 1e12, 5 * 3600])
def test_an_endless_wait_estimate_offers_a_callback_without_a_figure(seconds):
    """issue 13 item 14: an infinite estimate (no agent serves the group) crashed the call."""
    m = machine()
    m.start(NOW)
    m.feed(Digits("5"), NOW)
    cmds = m.feed(io.WaitResult(seconds), NOW)
    assert prompts(cmds) == ["long_wait_offer"]
    cmds = m.feed(Digits("2"), NOW)
    assert isinstance(cmds[-1], Enqueue)


def test_no_wait_estimate_connects_without_a_figure():
    m = machine()
    m.start(NOW)
    m.feed(Digits("5"), NOW)
    cmds = m.feed(io.WaitResult(float("nan")), NOW)
    assert prompts(cmds) == ["connecting"] and isinstance(cmds[-1], Enqueue)


def test_long_wait_declined_or_silent_stays_in_line():
    m = machine()
    m.start(NOW)
    m.feed(Digits("5"), NOW)
    m.feed(io.WaitResult(11 * 60), NOW)
    cmds = m.feed(Digits("2"), NOW)
    assert isinstance(cmds[-1], Enqueue)


def identify_to_code(m: IvrMachine, key: str = "1") -> None:
    m.start(NOW)
    assert m.feed(Digits(key), NOW)[-1].prompts == ("id_choose_document",)
    assert m.feed(Digits("1"), NOW)[-1].max_digits == 11
    assert m.feed(Digits(SNILS), NOW)[-1].prompts == ("id_enter_dob",)
    cmds = m.feed(Digits("01021980"), NOW)
    assert cmds == [io.Identify("snils", SNILS, date(1980, 2, 1), None)]
    assert m.feed(io.IdentifyResult("ok", 42), NOW) == [io.SendCode(42)]
    assert m.feed(io.SendCodeResult("sent"), NOW)[-1].prompts == ("otp_enter",)


def test_identified_caller_hears_application_status():
    m = machine()
    identify_to_code(m, "2")
    assert m.feed(Digits("123456"), NOW) == [io.CheckCode(42, "123456")]
    cmds = m.feed(io.CheckCodeResult("ok"), NOW)
    assert prompts(cmds) == ["id_ok", "app_enter_number"]
    assert m.feed(Digits("1001"), NOW) == [io.FindApplication(42, "1001")]
    cmds = m.feed(io.ApplicationResult("rejected", None,
                                       "Не оплачена государственная пошлина"), NOW)
    assert prompts(cmds) == ["app_status_rejected", "app_reject_reason", "app_reason_fee",
                             "app_next"]
    m.feed(Digits("1"), NOW)
    m.feed(Digits("1002"), NOW)
    cmds = m.feed(io.ApplicationResult("in_progress", date(2026, 12, 1)), NOW)
    assert prompts(cmds)[:3] == ["app_status_in_progress", "app_expected_date", "d2026-12-01"]
    row = outcome(m.feed(CallerHangup(), NOW))
    assert row["outcome"] == "self_served" and row["identification"] == "ok"
    assert "status:rejected" in row["menu_path"]


def test_bad_checksum_reprompts_at_once_and_counts_as_attempt():
    m = machine()
    m.start(NOW)
    m.feed(Digits("1"), NOW)
    m.feed(Digits("1"), NOW)
    for _ in range(MENUS.settings.id_attempts - 1):
        cmds = m.feed(Digits(BAD_SNILS), NOW)
        assert prompts(cmds) == ["id_bad_number", "id_enter_snils"]
    cmds = m.feed(Digits(BAD_SNILS), NOW)
    row = outcome(cmds)
    assert (row["outcome"], row["identification"]) == ("id_failed", "failed")
    assert "id_failed" in prompts(cmds) and isinstance(cmds[-1], Hangup)


def test_impossible_birth_date_counts_as_attempt():
    m = machine()
    m.start(NOW)
    m.feed(Digits("1"), NOW)
    m.feed(Digits("1"), NOW)
    m.feed(Digits(SNILS), NOW)
    future = (NOW + timedelta(days=400)).strftime("%d%m%Y")
    assert prompts(m.feed(Digits(future), NOW))[0] == "id_bad_date"
    assert prompts(m.feed(Digits("31022000"), NOW))[0] == "id_bad_date"
    assert m.id_failures == 2


def test_registry_mismatch_then_lock():
    m = machine()
    m.start(NOW)
    m.feed(Digits("1"), NOW)
    m.feed(Digits("2"), NOW)
    m.feed(Digits("4510123456"), NOW)
    cmds = m.feed(Digits("01021980"), NOW)
    assert cmds[0].document == "passport" and cmds[0].number == "4510123456"
    cmds = m.feed(io.IdentifyResult("failed"), NOW)
    assert prompts(cmds) == ["id_not_found", "id_enter_passport"]
    m.feed(Digits("4510123456"), NOW)
    m.feed(Digits("01021980"), NOW)
    cmds = m.feed(io.IdentifyResult("locked", 7), NOW)
    row = outcome(cmds)
    assert (row["outcome"], row["identification"]) == ("locked", "locked")
    assert "id_locked" in prompts(cmds)
    assert not any(c.barge_in for c in cmds if isinstance(c, Play))  # must be heard in full


def test_three_wrong_codes_lock_the_account():
    m = machine()
    identify_to_code(m)
    for _ in range(MENUS.settings.otp_wrong_max - 1):
        m.feed(Digits("000000"), NOW)
        assert prompts(m.feed(io.CheckCodeResult("wrong"), NOW))[0] == "otp_wrong"
    m.feed(Digits("000000"), NOW)
    cmds = m.feed(io.CheckCodeResult("wrong"), NOW)
    assert cmds[0] == io.LockAccount(42, "otp_wrong")
    assert outcome(cmds)["identification"] == "locked"


def test_code_resend_expiry_and_limits():
    m = machine()
    identify_to_code(m)
    assert m.feed(Digits("*"), NOW) == [io.SendCode(42)]
    cmds = m.feed(io.SendCodeResult("later"), NOW)
    assert prompts(cmds) == ["otp_resend_later", "otp_enter"]
    m.feed(Digits("111111"), NOW)
    cmds = m.feed(io.CheckCodeResult("expired"), NOW)
    assert prompts(cmds) == ["otp_expired", "otp_enter"]
    m.feed(Digits("*"), NOW)
    cmds = m.feed(io.SendCodeResult("limit"), NOW)
    row = outcome(cmds)
    assert row["outcome"] == "id_failed"
    assert cmds[0] == io.DropCode(42)


def test_hangup_during_code_entry_drops_the_code():
    m = machine()
    identify_to_code(m)
    cmds = m.feed(CallerHangup(), NOW + timedelta(seconds=30))
    assert cmds[0] == io.DropCode(42)
    row = outcome(cmds)
    assert row["outcome"] == "abandoned_ivr" and row["ended_at"] == NOW + timedelta(seconds=30)
    assert not any(isinstance(c, Hangup) for c in cmds)


def test_inn_is_asked_where_configured():
    m = machine(menu="tax")
    m.start(NOW)
    m.feed(Digits("2"), NOW)
    m.feed(Digits("1"), NOW)
    m.feed(Digits(SNILS), NOW)
    assert m.feed(Digits("01021980"), NOW)[-1].prompts == ("id_enter_inn",)
    inn = inn12_from("7707083893")
    cmds = m.feed(Digits(inn), NOW)
    assert cmds == [io.Identify("snils", SNILS, date(1980, 2, 1), inn)]


def test_driver_error_ends_with_error_outcome():
    m = machine()
    m.start(NOW)
    cmds = m.feed(DriverError("prompt missing"), NOW)
    row = outcome(cmds)
    assert row["outcome"] == "error" and "prompt missing" in row["detail"]
    assert cmds[-1] == Hangup("error")


def test_wrong_answer_type_is_a_state_error():
    m = machine()
    m.start(NOW)
    with pytest.raises(IvrStateError):
        m.feed(io.WaitResult(3), NOW)
    m.feed(Digits("3"), NOW)
    with pytest.raises(IvrStateError):
        m.feed(Digits("1"), NOW)


def test_results_vocabulary():
    assert set(RESULTS) >= {"self_served", "queued", "abandoned_ivr", "after_hours", "locked",
                            "error"}


# ---- the menus file: mistakes name file, line and key -----------------------------------------
MENUS_DIR = Path("dialplans")


def _menus_with(tmp_path, old: str, new: str):
    from ivr.dialplan.menus import load_menus as load

    text = (MENUS_DIR / "menus.yaml").read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "menus.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return load(tmp_path)




@pytest.mark.parametrize(("old", "new", "where"), [
    ('"8": {label: more, action: menu, menu: more}', '"8": {label: more, action: menu, menu: mor}',
     "menus.main.items.8.menu: no menu 'mor'"),
    ('"3": {label: documents, action: queue, skill: documents}',
     '"0": {label: documents, action: queue, skill: documents}', "key '0' is built in"),
    ('"4": {label: payments, action: queue, skill: payments}',
     '"4": {label: payments, action: queue}', "action 'queue' needs 'skill'"),
    ("  retries: 3 ", "  retries: 30 ", "settings.retries"),
    ("  short:\n", "  shortt:\n", "menu 'short' is missing"),
])
def test_menu_mistakes_are_located(tmp_path, old, new, where):
    from ivr.dialplan.yamlconf import ConfigError

    with pytest.raises(ConfigError) as err:
        _menus_with(tmp_path, old, new)
    text = str(err.value)
    assert where in text and str(tmp_path / "menus.yaml") in text
    line = int(text.split(":")[1])
    assert line > 1


def test_status_always_identifies_and_skills_are_referenced_with_lines():
    status = MENUS.menu("main").items["2"]
    assert status.action == "status" and status.identify is not None and status.identify.otp
    refs = MENUS.skill_refs()
    assert {"account", "documents", "general", "status", "tax", "orgs"} <= set(refs)
    assert refs["tax"][0].endswith("menus.yaml") and refs["tax"][1] > 1
    assert {"menu_main", "consent_recording", "app_reason_fee"} <= MENUS.used_prompt_ids()
