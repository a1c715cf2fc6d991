"""IVR menus as data: ``dialplans/menus.yaml`` loaded and validated (ARCHITECTURE rule 2).

A supervisor edits the YAML, so a mistake there must come back as a message that names the
file, the line and the key (``dialplans/menus.yaml:57: menus.main.items.3.skill: ...``), not as
a traceback from deep inside the machine. Validation is pydantic v2 (shape and types) plus
cross-references (submenus exist, skills are known, ids needed by the dialplan are present).
Line numbers come from a second pass over PyYAML's node tree, keyed by the same path as
pydantic's error locations.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ivr.dialplan.yamlconf import ConfigError, Problem, YamlDoc, load_yaml, validate

MENUS_FILE = "menus.yaml"
REQUIRED_MENUS = ("main", "short", "tax", "tech", "orgs", "complaints", "registration")
RESERVED_KEYS = frozenset("0*#")
Document = Literal["snils", "passport"]
Action = Literal["queue", "menu", "status", "info", "callback", "emergency", "ticket",
                 "request"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Identify(_Model):
    """Who must prove identity before an item: documents accepted, INN too, SMS code."""

    documents: tuple[Document, ...] = ("snils", "passport")
    inn: bool = False
    otp: bool = True

    @field_validator("documents")
    @classmethod
    def _some_document(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v or len(set(v)) != len(v):
            raise ValueError("list one or both of snils, passport, each once")
        return v


class Item(_Model):
    label: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    action: Action
    skill: str | None = None
    menu: str | None = None
    prompts: tuple[str, ...] = ()
    priority: int | None = None
    identify: Identify | None = None

    @field_validator("identify", mode="before")
    @classmethod
    def _identify_shorthand(cls, v: Any) -> Any:
        if v is True:
            return {}
        if v is False:
            return None
        return v

    @model_validator(mode="after")
    def _fields_fit_action(self) -> Item:
        need = {"queue": "skill", "callback": "skill", "menu": "menu", "info": "prompts",
                "request": "skill"}  # request: the skill's deadline class (tickets.yaml)
        field = need.get(self.action)
        if field and not getattr(self, field):
            raise ValueError(f"action {self.action!r} needs {field!r}")
        if self.action in ("status", "ticket") and self.identify is None:
            # Nothing personal before identification (SPEC §5): status always identifies.
            object.__setattr__(self, "identify", Identify())
        return self


class Menu(_Model):
    greeting: tuple[str, ...] = ()
    prompt: tuple[str, ...]
    items: dict[str, Item]

    @field_validator("items", mode="before")
    @classmethod
    def _keys_are_digits(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        out = {}
        for key, item in v.items():
            key = str(key)
            if key in RESERVED_KEYS:
                raise ValueError(f"key {key!r} is built in (0 operator, * repeat, # back)")
            if len(key) != 1 or not key.isdigit():
                raise ValueError(f"key {key!r} must be a single digit 1-9")
            out[key] = item
        return out


class Settings(_Model):
    retries: int = Field(3, ge=1, le=9)
    menu_timeout_s: float = Field(6.0, gt=0)
    digits_timeout_s: float = Field(12.0, gt=0)
    id_attempts: int = Field(3, ge=1, le=5)
    otp_wrong_max: int = Field(3, ge=1, le=5)
    callback_offer_after_min: float = Field(10.0, ge=0)
    operator_skill: str = "general"
    status_skill: str = "status"  # an agent asked for from the status self-service
    # the key that refuses call recording while the consent notice / first menu prompt plays
    # (SPEC §4, §7); None: staying on the line is consent, no way to refuse by key
    consent_refuse_key: Literal["*", "#"] | None = None


class SystemPrompts(_Model):
    """Prompt ids the machine itself uses (texts in prompts.yaml). Overridable in YAML."""

    consent: tuple[str, ...] = ("consent_recording",)
    consent_refused: tuple[str, ...] = ("consent_refused",)
    control_wrong: tuple[str, ...] = ("control_wrong",)
    email_requested: tuple[str, ...] = ("email_requested",)
    ticket_enter: tuple[str, ...] = ("ticket_enter",)
    ticket_not_found: tuple[str, ...] = ("ticket_not_found",)
    ticket_due: tuple[str, ...] = ("ticket_due",)
    ticket_next: tuple[str, ...] = ("ticket_next",)
    ticket_opened: tuple[str, ...] = ("ticket_opened",)  # + the number, digit by digit
    ticket_open_failed: tuple[str, ...] = ("ticket_open_failed",)
    request_next: tuple[str, ...] = ("request_next",)
    ticket_status: dict[str, tuple[str, ...]] = {
        "open": ("ticket_status_open",), "in_progress": ("ticket_status_in_progress",),
        "reopened": ("ticket_status_reopened",), "escalated": ("ticket_status_escalated",),
        "resolved": ("ticket_status_resolved",),
    }
    language: tuple[str, ...] = ("lang_choice",)
    menu_hint: tuple[str, ...] = ("menu_hint",)
    invalid: tuple[str, ...] = ("invalid_choice",)
    no_input: tuple[str, ...] = ("no_input",)
    goodbye: tuple[str, ...] = ("goodbye",)
    error: tuple[str, ...] = ("service_error",)
    unknown_number: tuple[str, ...] = ("number_unknown",)
    after_hours: tuple[str, ...] = ("after_hours",)
    next_open: tuple[str, ...] = ("next_open_at",)
    after_hours_offer: tuple[str, ...] = ("after_hours_offer",)
    callback_accepted: tuple[str, ...] = ("callback_accepted",)
    callback_failed: tuple[str, ...] = ("callback_failed",)
    callback_at: tuple[str, ...] = ("callback_at",)
    callback_position: tuple[str, ...] = ("callback_position",)
    callback_calling: tuple[str, ...] = ("callback_calling",)  # the answered callback leg
    callback_number_is: tuple[str, ...] = ("callback_number_is",)
    callback_number_confirm: tuple[str, ...] = ("callback_number_confirm",)
    callback_number_enter: tuple[str, ...] = ("callback_number_enter",)
    callback_number_bad: tuple[str, ...] = ("callback_number_bad",)
    callback_exists: tuple[str, ...] = ("callback_exists",)
    callback_keep_or_cancel: tuple[str, ...] = ("callback_keep_or_cancel",)
    callback_kept: tuple[str, ...] = ("callback_kept",)
    callback_cancelled: tuple[str, ...] = ("callback_cancelled",)
    wait_expected: tuple[str, ...] = ("wait_expected",)
    wait_short: tuple[str, ...] = ("wait_short",)
    long_wait_offer: tuple[str, ...] = ("long_wait_offer",)
    connecting: tuple[str, ...] = ("connecting",)
    emergency: tuple[str, ...] = ("emergency_connect",)
    id_choose: tuple[str, ...] = ("id_choose_document",)
    id_snils: tuple[str, ...] = ("id_enter_snils",)
    id_passport: tuple[str, ...] = ("id_enter_passport",)
    id_dob: tuple[str, ...] = ("id_enter_dob",)
    id_inn: tuple[str, ...] = ("id_enter_inn",)
    id_bad_number: tuple[str, ...] = ("id_bad_number",)
    id_bad_date: tuple[str, ...] = ("id_bad_date",)
    id_not_found: tuple[str, ...] = ("id_not_found",)
    id_failed: tuple[str, ...] = ("id_failed",)
    id_locked: tuple[str, ...] = ("id_locked",)
    id_ok: tuple[str, ...] = ("id_ok",)
    otp_sent: tuple[str, ...] = ("otp_sent",)
    otp_enter: tuple[str, ...] = ("otp_enter",)
    otp_wrong: tuple[str, ...] = ("otp_wrong",)
    otp_expired: tuple[str, ...] = ("otp_expired",)
    otp_resend_later: tuple[str, ...] = ("otp_resend_later",)
    otp_no_mobile: tuple[str, ...] = ("otp_no_mobile",)
    app_enter: tuple[str, ...] = ("app_enter_number",)
    app_not_found: tuple[str, ...] = ("app_not_found",)
    app_expected: tuple[str, ...] = ("app_expected_date",)
    app_reason: tuple[str, ...] = ("app_reject_reason",)
    app_next: tuple[str, ...] = ("app_next",)
    app_reason_other: tuple[str, ...] = ("app_reason_other",)
    app_reasons: dict[str, tuple[str, ...]] = {}  # registry's reason text -> recorded prompts
    app_status: dict[str, tuple[str, ...]] = {
        "accepted": ("app_status_accepted",),
        "in_progress": ("app_status_in_progress",),
        "completed": ("app_status_completed",),
        "rejected": ("app_status_rejected",),
    }


class MenusFile(_Model):
    settings: Settings
    system_prompts: SystemPrompts = SystemPrompts()
    menus: dict[str, Menu]


class Menus:
    """The validated menus, read-only, shared by every call of the process."""

    def __init__(self, data: MenusFile, doc: YamlDoc | None = None) -> None:
        self.data = data
        self.settings = data.settings
        self.prompts = data.system_prompts
        self.menus = data.menus
        self._doc = doc

    def ids(self) -> list[str]:
        return list(self.menus)

    def menu(self, menu_id: str) -> Menu:
        return self.menus[menu_id]

    def used_prompt_ids(self) -> set[str]:
        """Every prompt id the menus and the machine can play (numbers are speech.py's)."""
        ids: set[str] = set()
        for name in SystemPrompts.model_fields:
            value = getattr(self.prompts, name)
            if isinstance(value, dict):
                for seq in value.values():
                    ids.update(seq)
            else:
                ids.update(value)
        for menu in self.menus.values():
            ids.update(menu.greeting)
            ids.update(menu.prompt)
            for item in menu.items.values():
                ids.update(item.prompts)
        return ids

    def skill_refs(self) -> dict[str, tuple[str, int | None]]:
        """Skill id -> (file, line) of its first use: the dialplan checks them against
        ``skills.yaml`` and the queue engine must serve each. The emergency skill is the
        dialplan's own (``lines.yaml: emergency``)."""
        path = str(self._doc.path) if self._doc else MENUS_FILE
        line = self._doc.line_of if self._doc else (lambda _loc: None)
        out = {self.settings.operator_skill: (path, line(("settings", "operator_skill"))),
               self.settings.status_skill: (path, line(("settings", "status_skill")))}
        for menu_id, menu in self.menus.items():
            for key, item in menu.items.items():
                if item.skill and item.skill not in out:
                    out[item.skill] = (path, line(("menus", menu_id, "items", key, "skill")))
        return out


# ---- loading ---------------------------------------------------------------------------------
def _cross_check(data: MenusFile, doc: YamlDoc) -> list[Problem]:
    problems: list[Problem] = []
    for menu_id in REQUIRED_MENUS:
        if menu_id not in data.menus:
            problems.append(doc.problem(("menus",), f"menu {menu_id!r} is missing "
                                        "(lines.yaml refers to it)"))
    for menu_id, menu in data.menus.items():
        for key, item in menu.items.items():
            if item.menu and item.menu not in data.menus:
                problems.append(doc.problem(("menus", menu_id, "items", key, "menu"),
                                            f"no menu {item.menu!r}"))
    return problems


def load_menus(directory: str | Path = "dialplans") -> Menus:
    """Load ``<directory>/menus.yaml``; raise :class:`ConfigError` naming file, line and key.

    Skill ids are checked against ``skills.yaml`` by :func:`ivr.dialplan.model.load_dialplan`, which
    calls :meth:`Menus.skill_refs`.
    """
    doc = load_yaml(Path(directory) / MENUS_FILE)
    data = validate(doc, MenusFile)
    problems = _cross_check(data, doc)
    if problems:
        raise ConfigError(problems)
    return Menus(data, doc)


def used_prompt_ids(directory: str | Path = "dialplans") -> set[str]:
    """Prompt ids the menus use, for ``hotline prompts build|check``."""
    return load_menus(directory).used_prompt_ids()


def skills_referenced(directory: str | Path = "dialplans") -> set[str]:
    return set(load_menus(directory).skill_refs())
